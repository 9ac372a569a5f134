package cifarserve.training;

import io.vertx.core.json.JsonObject;
import java.util.Map;

/**
 * The options a client may send to {@code POST /train}, checked strictly before anything runs:
 * each known field has a type and bounds, unknown fields are refused. The bounds keep a run
 * finite and its memory small (the cluster holds one training lock, so a run that never ends
 * blocks every retrain): at most 200 epochs (a fraction allowed), batches of at most 1024 images.
 */
public final class TrainingRequest {
  /** A rejected field: the HTTP layer answers 400 naming it. */
  public static final class InvalidOption extends IllegalArgumentException {
    private final String field;

    InvalidOption(String field, String message) {
      super(field + ": " + message);
      this.field = field;
    }

    public String field() {
      return field;
    }
  }

  private record Bounds(long min, long max) {
  }

  private static final Map<String, Bounds> INTEGERS = Map.of(
      "trainLimit", new Bounds(0, 50_000),
      "testLimit", new Bounds(0, 10_000),
      "batchSize", new Bounds(1, 1024),
      "cropPadding", new Bounds(0, 8),
      "seed", new Bounds(Long.MIN_VALUE, Long.MAX_VALUE));
  private static final java.util.Set<String> BOOLEANS = java.util.Set.of("horizontalFlip", "saveEachEpoch");

  private TrainingRequest() {
  }

  /**
   * Checks a client's overrides and returns the options a run would use (defaults merged in).
   * Throws {@link InvalidOption} naming the first bad field.
   */
  public static TrainingOptions validate(JsonObject overrides, JsonObject defaults) {
    for (String field : overrides.fieldNames()) {
      Object value = overrides.getValue(field);
      if (INTEGERS.containsKey(field)) {
        checkInteger(field, value, INTEGERS.get(field));
      } else if (BOOLEANS.contains(field)) {
        if (!(value instanceof Boolean)) {
          throw new InvalidOption(field, "must be true or false");
        }
      } else if ("epochs".equals(field)) {
        if (!(value instanceof Number n) || !(n.doubleValue() > 0 && n.doubleValue() <= TrainingOptions.MAX_EPOCHS)) {
          throw new InvalidOption(field, "must be a number above 0 and at most " + TrainingOptions.MAX_EPOCHS
              + " (a fraction ends the last pass part-way)");
        }
      } else if ("learningRate".equals(field)) {
        if (!(value instanceof Number n) || !(n.doubleValue() > 0 && n.doubleValue() <= 1)) {
          throw new InvalidOption(field, "must be a number in (0, 1]");
        }
      } else if ("baseLearningRate".equals(field)) {
        if (!(value instanceof Number n) || !(n.doubleValue() >= 0 && n.doubleValue() <= 1)) {
          throw new InvalidOption(field, "must be a number in [0, 1], at most learningRate");
        }
      } else if ("warmupEpochs".equals(field)) {
        if (!(value instanceof Number n) || !(n.doubleValue() >= 0 && n.doubleValue() <= 200)) {
          throw new InvalidOption(field, "must be a number from 0 to 200, shorter than the run");
        }
      } else if ("schedule".equals(field)) {
        if (!TrainingOptions.COSINE.equals(value) && !TrainingOptions.CONSTANT.equals(value)) {
          throw new InvalidOption(field, "must be \"" + TrainingOptions.COSINE + "\" or \"" + TrainingOptions.CONSTANT + "\"");
        }
      } else {
        throw new InvalidOption(field, "unknown training option");
      }
    }
    JsonObject merged = defaults.copy().mergeIn(overrides);
    if (merged.getDouble("warmupEpochs", 0.5) >= merged.getDouble("epochs", 1.0)) {
      throw new InvalidOption("warmupEpochs", "must be shorter than the run (epochs)");
    }
    if (merged.getDouble("baseLearningRate", 0.0) > merged.getDouble("learningRate", 0.01)) {
      throw new InvalidOption("baseLearningRate", "must be at most learningRate (the peak)");
    }
    return TrainingOptions.fromJson(merged, "check");
  }

  private static void checkInteger(String field, Object value, Bounds bounds) {
    boolean integral = value instanceof Integer || value instanceof Long
        || value instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && Math.abs(n.doubleValue()) < 9e15;
    if (!integral) {
      throw new InvalidOption(field, "must be an integer from " + bounds.min() + " to " + bounds.max());
    }
    long number = ((Number) value).longValue();
    if (number < bounds.min() || number > bounds.max()) {
      throw new InvalidOption(field, "must be an integer from " + bounds.min() + " to " + bounds.max());
    }
  }
}
