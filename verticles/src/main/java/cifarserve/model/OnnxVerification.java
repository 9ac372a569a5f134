package cifarserve.model;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import cifarserve.data.CifarImages;
import java.nio.FloatBuffer;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * An exported ONNX model is published only when ONNX Runtime's answers on real test images equal
 * DL4J's {@code network.output} to {@link #TOLERANCE}: a wrong weight layout or flatten order fails here,
 * not in production.
 */
public final class OnnxVerification {
  public static final double TOLERANCE = 1e-4;
  public static final int MIN_IMAGES = 256;

  private OnnxVerification() {
  }

  /** What was compared: how many images and the largest absolute difference of any probability. */
  public record Report(int images, double maxAbsDifference) {
  }

  /** Throws IllegalStateException when the ONNX answers differ from DL4J's by more than the tolerance. */
  public static Report verify(byte[] onnxModel, MultiLayerNetwork network, CifarImages images) throws OrtException {
    if (images.size() < MIN_IMAGES) {
      throw new IllegalArgumentException("verification needs >= " + MIN_IMAGES + " images, got " + images.size());
    }
    int count = images.size();
    long[] shape = {count, CifarImages.CHANNELS, CifarImages.SIDE, CifarImages.SIDE};
    INDArray expected = network.output(Nd4j.create(Normalization.fromBytes(images.pixels(), 0, count), shape));
    float[][] actual = onnxOutput(onnxModel, images);
    double worst = 0;
    for (int i = 0; i < count; i++) {
      for (int k = 0; k < actual[i].length; k++) {
        worst = Math.max(worst, Math.abs(actual[i][k] - expected.getDouble(i, k)));
      }
    }
    if (!(worst <= TOLERANCE)) {
      throw new IllegalStateException("ONNX export differs from DL4J by " + worst + " (> " + TOLERANCE + ") on "
          + count + " images: not published");
    }
    return new Report(count, worst);
  }

  /** ONNX Runtime's probabilities for the images (pixels scaled to 0-1, as the graph expects). */
  public static float[][] onnxOutput(byte[] onnxModel, CifarImages images) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    byte[] pixels = images.pixels();
    FloatBuffer input = FloatBuffer.allocate(pixels.length);
    for (byte pixel : pixels) {
      input.put((pixel & 0xff) / 255f);
    }
    input.flip();
    long[] shape = {images.size(), CifarImages.CHANNELS, CifarImages.SIDE, CifarImages.SIDE};
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
         OrtSession session = env.createSession(onnxModel, options);
         OnnxTensor tensor = OnnxTensor.createTensor(env, input, shape);
         OrtSession.Result result = session.run(Map.of(OnnxExport.INPUT, tensor))) {
      return (float[][]) result.get(0).getValue();
    }
  }
}
