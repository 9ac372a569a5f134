package cifarserve.model;

import cifarserve.data.CifarClasses;
import cifarserve.data.CifarImages;
import io.vertx.core.json.JsonObject;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A trained network with its metadata. Not thread-safe: DL4J networks keep per-call state, so one
 * thread at a time predicts with it (the inference verticle's single worker does).
 */
public final class LoadedModel {
  /** {@code -Dcifar.smallBatchGemv=false} turns the small-batch path off (for before/after benchmarks). */
  static final String SMALL_BATCH_PROPERTY = "cifar.smallBatchGemv";

  private final JsonObject metadata;
  private final MultiLayerNetwork network;
  private final SmallBatchForward smallBatch;

  public LoadedModel(JsonObject metadata, MultiLayerNetwork network) {
    this.metadata = metadata;
    this.network = network;
    boolean enabled = !"false".equalsIgnoreCase(System.getProperty(SMALL_BATCH_PROPERTY));
    this.smallBatch = enabled ? SmallBatchForward.of(network).orElse(null) : null;
  }

  public String version() {
    return metadata.getString("version");
  }

  public JsonObject metadata() {
    return metadata.copy();
  }

  /** Whether batches of up to {@link SmallBatchForward#MAX_IMAGES} images take the GEMV path. */
  public boolean hasSmallBatchPath() {
    return smallBatch != null;
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
    INDArray input = Nd4j.create(standardisedChw,
        new long[] {count, CifarImages.CHANNELS, CifarImages.SIDE, CifarImages.SIDE}, 'c');
    INDArray output = smallBatch != null && count <= SmallBatchForward.MAX_IMAGES
        ? smallBatch.output(input)
        : network.output(input, false);
    float[][] rows = new float[count][];
    for (int i = 0; i < count; i++) {
      rows[i] = output.getRow(i).toFloatVector();
    }
    return rows;
  }

  /** Index of the largest probability. */
  public static int argMax(float[] probabilities) {
    int best = 0;
    for (int i = 1; i < probabilities.length; i++) {
      if (probabilities[i] > probabilities[best]) {
        best = i;
      }
    }
    return best;
  }

  public static JsonObject probabilitiesJson(float[] probabilities) {
    JsonObject out = new JsonObject();
    for (int i = 0; i < CifarClasses.COUNT; i++) {
      out.put(CifarClasses.name(i), (double) probabilities[i]);
    }
    return out;
  }
}
