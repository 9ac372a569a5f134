package cifarserve.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Arrays;

/**
 * Exact order statistics of a set of measurements (no histogram buckets): percentiles use the
 * nearest-rank definition, so p99 of 1,000 samples is the 990th smallest value.
 */
public final class Samples {
  private final double[] sorted;

  public Samples(double[] values) {
    if (values.length == 0) {
      throw new IllegalArgumentException("no samples");
    }
    this.sorted = values.clone();
    Arrays.sort(sorted);
  }

  public int count() {
    return sorted.length;
  }

  /** Nearest-rank percentile, {@code p} in (0, 100]. */
  public double percentile(double p) {
    int rank = (int) Math.ceil(p / 100.0 * sorted.length);
    return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
  }

  /** The middle value (mean of the two middle ones for an even count). */
  public double median() {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  public double min() {
    return sorted[0];
  }

  public double max() {
    return sorted[sorted.length - 1];
  }

  public double mean() {
    double sum = 0;
    for (double v : sorted) {
      sum += v;
    }
    return sum / sorted.length;
  }

  /** Median of values, e.g. of the per-window rates of several timed windows. */
  public static double median(double[] values) {
    return new Samples(values).median();
  }

  static double round(double value, int decimals) {
    double scale = Math.pow(10, decimals);
    return Math.round(value * scale) / scale;
  }

  static JsonArray json(double[] values, int decimals) {
    JsonArray out = new JsonArray();
    for (double v : values) {
      out.add(round(v, decimals));
    }
    return out;
  }

  /** Latency summary in milliseconds (samples given in milliseconds). */
  public JsonObject latencyJson() {
    return new JsonObject()
        .put("samples", count())
        .put("p50Ms", round(percentile(50), 3))
        .put("p90Ms", round(percentile(90), 3))
        .put("p99Ms", round(percentile(99), 3))
        .put("minMs", round(min(), 3))
        .put("maxMs", round(max(), 3))
        .put("meanMs", round(mean(), 3));
  }
}
