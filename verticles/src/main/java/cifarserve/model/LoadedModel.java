package cifarserve.model;

import cifarserve.data.CifarImages;
import io.vertx.core.json.JsonObject;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A DL4J network with its metadata, for training and evaluation (resume, accuracy gate, ONNX export).
 * Serving runs the artifact's ONNX twin instead ({@link OnnxModel}). DL4J's network keeps per-call
 * state, so predictions run one thread at a time.
 */
public final class LoadedModel {
  /**
   * Images per forward pass when a caller scores many (evaluation, ONNX verification). DL4J's CNN runs
   * several times slower per image on batches of 250 than of 64 on these cores (a layer's activations of
   * 250 images are ~32 MB, far beyond the caches).
   */
  public static final int EVALUATION_BATCH = 64;
  private final JsonObject metadata;
  private final MultiLayerNetwork network;

  public LoadedModel(JsonObject metadata, MultiLayerNetwork network) {
    this.metadata = metadata;
    this.network = network;
  }

  public String version() {
    return metadata.getString("version");
  }

  public JsonObject metadata() {
    return metadata.copy();
  }

  public MultiLayerNetwork network() {
    return network;
  }

  /**
   * Class probabilities for {@code count} standardised CHW images (see {@link Normalization}).
   * Returns one row of 10 probabilities per image.
   */
  public float[][] predict(float[] standardisedChw, int count) {
    if (standardisedChw.length != count * CifarImages.PIXELS_PER_IMAGE) {
      throw new IllegalArgumentException("expected " + count + " images of " + CifarImages.PIXELS_PER_IMAGE
          + " values, got " + standardisedChw.length + " values");
    }
    synchronized (network) {
      INDArray output = network.output(Nd4j.create(standardisedChw,
          new long[] {count, CifarImages.CHANNELS, CifarImages.SIDE, CifarImages.SIDE}, 'c'), false);
      float[][] rows = new float[count][];
      for (int i = 0; i < count; i++) {
        rows[i] = output.getRow(i).toFloatVector();
      }
      return rows;
    }
  }
}
