package cifarserve.loadtest.experiment;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Median, min and max of one figure over the repetitions (the spread the study never showed). */
public record Spread(Double median, Double min, Double max, int count) {
  public static final Spread EMPTY = new Spread(null, null, null, 0);

  /** Nulls (a measurement that failed) are left out; no value at all gives {@link #EMPTY}. */
  public static Spread of(List<Double> values) {
    List<Double> sorted = new ArrayList<>();
    for (Double v : values) {
      if (v != null && !v.isNaN()) {
        sorted.add(v);
      }
    }
    if (sorted.isEmpty()) {
      return EMPTY;
    }
    Collections.sort(sorted);
    int n = sorted.size();
    double median = n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    return new Spread(median, sorted.get(0), sorted.get(n - 1), n);
  }

  public boolean filled() {
    return median != null;
  }

  public JsonObject toJson() {
    return new JsonObject().put("median", median).put("min", min).put("max", max).put("n", count);
  }

  /** "4.6 (4.1-5.2)" with the given number format, or "n/a". */
  public String format(String numberFormat) {
    if (!filled()) {
      return "n/a";
    }
    return String.format(java.util.Locale.ROOT, numberFormat + " (" + numberFormat + "–" + numberFormat + ")",
        median, min, max);
  }
}
