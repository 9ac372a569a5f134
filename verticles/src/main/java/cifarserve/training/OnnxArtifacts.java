package cifarserve.training;

import ai.onnxruntime.OrtException;
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

  /**
   * The network's ONNX bytes, verified against DL4J on the first test images; the comparison goes into the
   * metadata. Throws (so nothing is saved) when ONNX Runtime's answers differ.
   */
  public static byte[] exportVerified(MultiLayerNetwork network, JsonObject metadata, CifarDataset dataset,
                                      CifarImages loadedTest) throws IOException {
    CifarImages images = loadedTest.size() >= VERIFICATION_IMAGES
        ? loadedTest.limit(VERIFICATION_IMAGES) : dataset.testImages(VERIFICATION_IMAGES);
    byte[] onnx = OnnxExport.toOnnx(network, metadata.getString("version"));
    try {
      OnnxVerification.Report report = OnnxVerification.verify(onnx, network, images);
      metadata.put("onnxVerification", new JsonObject().put("testImages", report.images())
          .put("maxAbsDifference", report.maxAbsDifference()).put("tolerance", OnnxVerification.TOLERANCE));
      return onnx;
    } catch (OrtException e) {
      throw new IOException("ONNX Runtime could not run the export: " + e.getMessage(), e);
    }
  }
}
