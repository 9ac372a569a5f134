package cifarserve.training;

import io.vertx.core.json.JsonObject;

/**
 * What one training run does. {@code trainLimit}/{@code testLimit} <= 0 mean the full 50,000 / 10,000.
 */
public record TrainingOptions(int epochs, int trainLimit, int testLimit, int batchSize, long seed,
                              boolean horizontalFlip, boolean saveEachEpoch, String command) {

  public TrainingOptions {
    if (epochs < 1) {
      throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
    }
  }

  public static TrainingOptions fromJson(JsonObject json, String command) {
    return new TrainingOptions(
        json.getInteger("epochs", 1),
        json.getInteger("trainLimit", 0),
        json.getInteger("testLimit", 0),
        json.getInteger("batchSize", 64),
        json.getLong("seed", 42L),
        json.getBoolean("horizontalFlip", true),
        json.getBoolean("saveEachEpoch", false),
        command);
  }

  public JsonObject toJson() {
    return new JsonObject().put("epochs", epochs).put("trainLimit", trainLimit).put("testLimit", testLimit)
        .put("batchSize", batchSize).put("seed", seed).put("horizontalFlip", horizontalFlip).put("saveEachEpoch", saveEachEpoch);
  }
}
