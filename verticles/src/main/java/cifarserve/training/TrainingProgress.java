package cifarserve.training;

import io.vertx.core.json.JsonObject;

/** A snapshot of a training run, published on the event bus and served at GET /train/status. */
public record TrainingProgress(String state, int epoch, double epochs, int batch, int batchesPerEpoch,
                               long imagesSeen, double imagesPerSecond, double etaSeconds, double loss,
                               double elapsedSeconds, String message) {

  public static final String IDLE = "idle";
  public static final String LOADING_DATA = "loading-data";
  public static final String TRAINING = "training";
  public static final String EVALUATING = "evaluating";
  public static final String SAVING = "saving";
  public static final String DONE = "done";
  public static final String FAILED = "failed";
  /** The run finished but the accuracy gate refused its model: saved, marked rejected, not served. */
  public static final String REJECTED = "rejected";

  public static TrainingProgress idle() {
    return new TrainingProgress(IDLE, 0, 0, 0, 0, 0, 0, 0, Double.NaN, 0, "no training has run");
  }

  public static TrainingProgress phase(String state, double epochs, double elapsedSeconds, String message) {
    return new TrainingProgress(state, 0, epochs, 0, 0, 0, 0, 0, Double.NaN, elapsedSeconds, message);
  }

  public boolean running() {
    return !(IDLE.equals(state) || DONE.equals(state) || FAILED.equals(state) || REJECTED.equals(state));
  }

  /** Fraction of the training batches done, 0-1. */
  public double fraction() {
    double total = Math.round(epochs * batchesPerEpoch);
    if (DONE.equals(state)) {
      return 1;
    }
    return total == 0 ? 0 : Math.min(1, ((long) (epoch - 1) * batchesPerEpoch + batch) / total);
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("state", state).put("epoch", epoch).put("epochs", TrainingOptions.epochsJson(epochs))
        .put("batch", batch).put("batchesPerEpoch", batchesPerEpoch).put("imagesSeen", imagesSeen)
        .put("imagesPerSecond", round(imagesPerSecond)).put("etaSeconds", round(etaSeconds))
        .put("elapsedSeconds", round(elapsedSeconds)).put("fraction", round(fraction()))
        .put("message", message);
    if (!Double.isNaN(loss)) {
      json.put("loss", round(loss));
    }
    return json;
  }

  /** One human line for the console. */
  public String toLine() {
    if (!TRAINING.equals(state)) {
      return String.format("[%s] %s", state, message);
    }
    return String.format("epoch %d/%s  batch %d/%d  %.1f images/s  loss %.4f  ETA %s",
        epoch, TrainingOptions.epochsJson(epochs), batch, batchesPerEpoch, imagesPerSecond, loss, duration(etaSeconds));
  }

  static String duration(double seconds) {
    long s = Math.round(seconds);
    return s >= 3600 ? String.format("%dh%02dm%02ds", s / 3600, s % 3600 / 60, s % 60)
        : String.format("%dm%02ds", s / 60, s % 60);
  }

  private static double round(double value) {
    return Double.isFinite(value) ? Math.round(value * 1000) / 1000.0 : 0;
  }
}
