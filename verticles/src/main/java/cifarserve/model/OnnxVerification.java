package cifarserve.model;

import cifarserve.data.CifarImages;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.FloatBuffer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An exported ONNX model is published only when ONNX Runtime's answers on real test images equal
 * DL4J's {@code network.output} to {@link #TOLERANCE}: a wrong weight layout or flatten order fails here,
 * not in production.
 */
public final class OnnxVerification {
  public static final double TOLERANCE = 1e-4;
  public static final int MIN_IMAGES = 256;
  /** Images per forward pass, in both engines (see LoadedModel). */
  private static final int CHUNK = LoadedModel.EVALUATION_BATCH;

  private OnnxVerification() {
  }

  /** What was compared: how many images and the largest absolute difference of any probability. */
  public record Report(int images, double maxAbsDifference) {
  }

  /** ONNX Runtime's probabilities for every image given, and the check of the first ones against DL4J. */
  public record Verified(Report report, float[][] probabilities) {
  }

  /** Throws IllegalStateException when the ONNX answers differ from DL4J's by more than the tolerance. */
  public static Report verify(byte[] onnxModel, MultiLayerNetwork network, CifarImages images) throws IOException {
    return verify(onnxModel, network, images, images.size()).report();
  }

  /**
   * ONNX Runtime's probabilities for all {@code images} (one session, as a serving lane runs it), of which
   * the first {@code compared} are checked against DL4J: the rest cost ONNX Runtime's speed only, so the
   * served model's own accuracy comes from the same pass. Throws IllegalStateException when they differ by
   * more than the tolerance.
   */
  public static Verified verify(byte[] onnxModel, MultiLayerNetwork network, CifarImages images, int compared)
      throws IOException {
    if (compared < MIN_IMAGES || compared > images.size()) {
      throw new IllegalArgumentException("verification needs >= " + MIN_IMAGES + " of the " + images.size()
          + " images, got " + compared);
    }
    float[][] actual = onnxOutput(onnxModel, images);
    double worst = 0;
    for (int from = 0; from < compared; from += CHUNK) {
      int count = Math.min(CHUNK, compared - from);
      long[] shape = {count, CifarImages.CHANNELS, CifarImages.SIDE, CifarImages.SIDE};
      float[][] expected = network.output(Nd4j.create(Normalization.fromBytes(images.pixels(), from, count), shape))
          .toFloatMatrix();
      for (int i = 0; i < count; i++) {
        for (int k = 0; k < expected[i].length; k++) {
          worst = Math.max(worst, Math.abs(actual[from + i][k] - expected[i][k]));
        }
      }
    }
    if (!(worst <= TOLERANCE)) {
      throw new IllegalStateException("ONNX export differs from DL4J by " + worst + " (> " + TOLERANCE + ") on "
          + compared + " images: not published");
    }
    return new Verified(new Report(compared, worst), actual);
  }

  /** ONNX Runtime's probabilities for the images (pixels scaled to 0-1, as the graph expects). */
  public static float[][] onnxOutput(byte[] onnxModel, CifarImages images) throws IOException {
    float[][] rows = new float[images.size()][];
    // the session options of a serving lane, with a thread per core this process may use
    try (OnnxModel model = OnnxModel.open(onnxModel, new JsonObject().put("version", "verification"), 1,
        Runtime.getRuntime().availableProcessors())) {
      FloatBuffer buffer = OnnxModel.inputBuffer(CHUNK);
      for (int from = 0; from < images.size(); from += CHUNK) {
        int count = Math.min(CHUNK, images.size() - from);
        buffer.clear();
        OnnxModel.putUnitPixels(images.pixels(), from * CifarImages.PIXELS_PER_IMAGE,
            count * CifarImages.PIXELS_PER_IMAGE, buffer);
        System.arraycopy(model.predict(0, buffer, count), 0, rows, from, count);
      }
    }
    return rows;
  }
}
