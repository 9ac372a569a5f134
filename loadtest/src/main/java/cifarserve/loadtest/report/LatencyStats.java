package cifarserve.loadtest.report;

import io.vertx.core.json.JsonObject;
import org.HdrHistogram.Histogram;

/** The latency figures every report prints, in milliseconds, from a microsecond histogram. */
public record LatencyStats(long count, double min, double mean, double stdev, double p50, double p90, double p95,
    double p99, double p999, double max) {

  public static final double[] PERCENTILES = {50, 90, 95, 99, 99.9};

  public static LatencyStats of(Histogram micros) {
    if (micros.getTotalCount() == 0) {
      return new LatencyStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }
    return new LatencyStats(micros.getTotalCount(), ms(micros.getMinValue()), micros.getMean() / 1000,
        micros.getStdDeviation() / 1000, pct(micros, 50), pct(micros, 90), pct(micros, 95), pct(micros, 99),
        pct(micros, 99.9), ms(micros.getMaxValue()));
  }

  private static double pct(Histogram h, double p) {
    return ms(h.getValueAtPercentile(p));
  }

  private static double ms(long micros) {
    return micros / 1000.0;
  }

  public JsonObject toJson() {
    return new JsonObject().put("count", count).put("min", min).put("mean", mean).put("stdev", stdev)
        .put("p50", p50).put("p90", p90).put("p95", p95).put("p99", p99).put("p99_9", p999).put("max", max);
  }
}
