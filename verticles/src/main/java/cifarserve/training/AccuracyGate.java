package cifarserve.training;

import cifarserve.config.ServiceSettings;
import cifarserve.data.CifarImages;
import cifarserve.model.LoadedModel;
import io.vertx.core.json.JsonObject;
import java.util.Optional;

/**
 * Decides whether a freshly trained model may replace the serving one. It is measured on the FULL
 * test set (whatever testLimit the run used, so a run cannot pick an easy subset) and must reach
 * {@code minAccuracy} and at least the current model's accuracy minus {@code tolerance}. A rejected
 * model stays on disk, marked rejected, and is never announced or loaded.
 *
 * <p>Config {@code accuracyGate}: {@code enabled}, {@code minAccuracy}, {@code tolerance} (defaults in
 * default-config.json). Tests that train tiny models on purpose turn it off.
 */
public record AccuracyGate(boolean enabled, double minAccuracy, double tolerance) {
  public static AccuracyGate from(ServiceSettings settings) {
    JsonObject gate = settings.json().getJsonObject("accuracyGate");
    return new AccuracyGate(gate.getBoolean("enabled"), gate.getDouble("minAccuracy"), gate.getDouble("tolerance"));
  }

  /** The candidate's accuracy on the full test set, measured here (the run may have used a subset). */
  public static double fullTestAccuracy(LoadedModel candidate, CifarImages fullTestSet) {
    JsonObject meta = candidate.metadata();
    if (meta.getInteger("testImages", 0) == fullTestSet.size()) {
      return meta.getDouble("accuracy");
    }
    return Evaluation.of(candidate, fullTestSet).accuracy();
  }

  /** Why the candidate is refused, or empty when it may be announced. */
  public Optional<String> refusal(double candidateAccuracy, JsonObject current) {
    if (!enabled) {
      return Optional.empty();
    }
    if (candidateAccuracy < minAccuracy) {
      return Optional.of(String.format("full test-set accuracy %.4f is below the floor %.4f", candidateAccuracy, minAccuracy));
    }
    if (current != null) {
      double baseline = current.getDouble("fullTestAccuracy", current.getDouble("accuracy", 0.0));
      if (candidateAccuracy < baseline - tolerance) {
        return Optional.of(String.format("full test-set accuracy %.4f is below the current model %s's %.4f minus %.4f",
            candidateAccuracy, current.getString("version"), baseline, tolerance));
      }
    }
    return Optional.empty();
  }
}
