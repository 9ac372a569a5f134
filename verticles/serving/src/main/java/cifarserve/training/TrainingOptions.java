package cifarserve.training;

import io.vertx.core.json.JsonObject;

/**
 * What one training run does. {@code trainLimit}/{@code testLimit} <= 0 mean the full 50,000 / 10,000.
 * The recipe: {@code learningRate} is the peak of a warm-up + cosine schedule ({@code schedule
 * "cosine"}, warm-up over {@code warmupEpochs} from {@code baseLearningRate}, one-cycle's base, or from
 * zero when it is 0) or the constant rate ({@code "constant"}, the study's
 * own); {@code cropPadding} pixels of random translation (CIFAR's standard "pad 4, crop 32"), 0 = off.
 * {@code epochs} may end in a fraction (2.75: two passes, then the first three quarters of a third, in its
 * shuffled order): a from-nothing budget can then be sized to a time, not only to whole passes.
 */
public record TrainingOptions(double epochs, int trainLimit, int testLimit, int batchSize, long seed,
                              boolean horizontalFlip, boolean saveEachEpoch, double learningRate, String schedule,
                              double warmupEpochs, int cropPadding, double baseLearningRate, String command) {
  public static final String COSINE = "cosine";
  public static final String CONSTANT = "constant";
  public static final int MAX_EPOCHS = 200;

  public TrainingOptions {
    if (!(epochs > 0 && epochs <= MAX_EPOCHS)) {
      throw new IllegalArgumentException("epochs must be above 0 and at most " + MAX_EPOCHS + ", got " + epochs);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be >= 1, got " + batchSize);
    }
    if (!(learningRate > 0 && learningRate <= 1)) {
      throw new IllegalArgumentException("learning rate must be in (0, 1], got " + learningRate);
    }
    if (!COSINE.equals(schedule) && !CONSTANT.equals(schedule)) {
      throw new IllegalArgumentException("schedule must be " + COSINE + " or " + CONSTANT + ", got " + schedule);
    }
    if (!(warmupEpochs >= 0 && warmupEpochs < epochs)) {
      throw new IllegalArgumentException("warm-up must be >= 0 and shorter than the run, got " + warmupEpochs);
    }
    if (!(baseLearningRate >= 0 && baseLearningRate <= learningRate)) {
      throw new IllegalArgumentException("base learning rate must be from 0 to the learning rate (the peak), got "
          + baseLearningRate);
    }
    if (cropPadding < 0 || cropPadding > 8) {
      throw new IllegalArgumentException("crop padding must be 0-8 pixels, got " + cropPadding);
    }
  }

  public static TrainingOptions fromJson(JsonObject json, String command) {
    return new TrainingOptions(
        json.getDouble("epochs", 1.0),
        json.getInteger("trainLimit", 0),
        json.getInteger("testLimit", 0),
        json.getInteger("batchSize", 32),
        json.getLong("seed", 42L),
        json.getBoolean("horizontalFlip", true),
        json.getBoolean("saveEachEpoch", false),
        json.getDouble("learningRate", 0.01),
        json.getString("schedule", COSINE),
        json.getDouble("warmupEpochs", 0.5),
        json.getInteger("cropPadding", 4),
        json.getDouble("baseLearningRate", 0.0),
        command);
  }

  public JsonObject toJson() {
    return new JsonObject().put("epochs", epochsJson(epochs)).put("trainLimit", trainLimit).put("testLimit", testLimit)
        .put("batchSize", batchSize).put("seed", seed).put("horizontalFlip", horizontalFlip).put("saveEachEpoch", saveEachEpoch)
        .put("learningRate", learningRate).put("schedule", schedule).put("warmupEpochs", warmupEpochs)
        .put("cropPadding", cropPadding).put("baseLearningRate", baseLearningRate);
  }

  /** Passes over the data the run starts: the last one may stop part-way. */
  public int passes() {
    return (int) Math.ceil(epochs - 1e-9);
  }

  /** Minibatches of the whole run: {@code epochs} passes of {@code batchesPerEpoch}, at least one. */
  public int totalBatches(int batchesPerEpoch) {
    return (int) Math.max(1, Math.round(epochs * batchesPerEpoch));
  }

  /** A whole number of epochs stays an integer in JSON (3, not 3.0), a fraction a number (2.75). */
  public static Number epochsJson(double epochs) {
    return epochs == Math.rint(epochs) ? (Number) (int) epochs : (Number) epochs;
  }
}
