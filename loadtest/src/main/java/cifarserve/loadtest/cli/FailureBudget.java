package cifarserve.loadtest.cli;

import java.util.Locale;

/**
 * {@code --max-failures}: "5%" is a share of finished requests, "3" an absolute count. The run
 * fails (exit 1) when failed requests exceed it; "0" tolerates none.
 */
public record FailureBudget(double value, boolean percent) {
  public static FailureBudget parse(String text) {
    String t = text.trim();
    boolean percent = t.endsWith("%");
    String number = percent ? t.substring(0, t.length() - 1).trim() : t;
    double v;
    try {
      v = Double.parseDouble(number);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--max-failures takes a count (3) or a percentage (2.5%), not '" + text + "'");
    }
    if (v < 0 || (percent && v > 100) || (!percent && v != Math.rint(v))) {
      throw new IllegalArgumentException("--max-failures out of range: '" + text + "'");
    }
    return new FailureBudget(v, percent);
  }

  public boolean exceededBy(long failures, long finished) {
    if (percent) {
      return finished > 0 && 100.0 * failures / finished > value;
    }
    return failures > value;
  }

  @Override
  public String toString() {
    return percent ? String.format(Locale.ROOT, "%s%%", value) : Long.toString((long) value);
  }
}
