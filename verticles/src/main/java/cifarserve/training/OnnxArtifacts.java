package cifarserve.training;

import cifarserve.data.CifarDataset;
import cifarserve.data.CifarImages;
import cifarserve.model.OnnxExport;
import cifarserve.model.OnnxVerification;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/** Exports a trained network to ONNX and verifies it on real CIFAR-10 test images before it is published. */
public final class OnnxArtifacts {
  /** Test images compared per export: above OnnxVerification's minimum, ~0.5 s of CPU. */
  public static final int VERIFICATION_IMAGES = 512;

  private OnnxArtifacts() {
  }

  /** A verified export and the accuracy ONNX Runtime measured with it (what serving will answer). */
  public record Evaluated(byte[] onnx, OnnxVerification.Report report, Evaluation evaluation) {
    /** The comparison with DL4J, into the artifact's metadata. */
    public JsonObject recordIn(JsonObject metadata) {
      return recordVerification(report, metadata);
    }
  }

  private static JsonObject recordVerification(OnnxVerification.Report report, JsonObject metadata) {
    return metadata.put("onnxVerification", new JsonObject().put("testImages", report.images())
        .put("maxAbsDifference", report.maxAbsDifference()).put("tolerance", OnnxVerification.TOLERANCE));
  }

  /**
   * The network's ONNX bytes, verified against DL4J on the first test images; the comparison goes into the
   * metadata. Throws (so nothing is saved) when ONNX Runtime's answers differ.
   */
  public static byte[] exportVerified(MultiLayerNetwork network, JsonObject metadata, CifarDataset dataset,
                                      CifarImages loadedTest) throws IOException {
    CifarImages images = loadedTest.size() >= VERIFICATION_IMAGES
        ? loadedTest.limit(VERIFICATION_IMAGES) : dataset.testImages(VERIFICATION_IMAGES);
    byte[] onnx = OnnxExport.toOnnx(network, metadata.getString("version"));
    recordVerification(OnnxVerification.verify(onnx, network, images), metadata);
    return onnx;
  }

  /**
   * Exports the network, verifies the export against DL4J on the first test images and evaluates it on all
   * of {@code test} with ONNX Runtime, in one pass over the test set: the accuracy recorded is the served
   * model's own, and costs ONNX Runtime's speed instead of DL4J's (10,000 images: ~2 s instead of ~20 s).
   * Throws (so nothing is saved) when ONNX Runtime's answers differ from DL4J's.
   */
  public static Evaluated exportEvaluated(MultiLayerNetwork network, String version, CifarDataset dataset,
                                          CifarImages test) throws IOException {
    byte[] onnx = OnnxExport.toOnnx(network, version);
    if (test.size() >= VERIFICATION_IMAGES) {
      OnnxVerification.Verified verified = OnnxVerification.verify(onnx, network, test, VERIFICATION_IMAGES);
      return new Evaluated(onnx, verified.report(), Evaluation.of(verified.probabilities(), test));
    }
    // a test subset smaller than the comparison: verified on its own images, then the subset evaluated
    OnnxVerification.Report report = OnnxVerification.verify(onnx, network, dataset.testImages(VERIFICATION_IMAGES));
    return new Evaluated(onnx, report, Evaluation.of(OnnxVerification.onnxOutput(onnx, test), test));
  }
}
