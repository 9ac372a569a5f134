package cifarserve.loadtest.cli;

import java.time.Duration;
import java.util.Locale;

/** Parses the human durations of the CLI: {@code 500ms}, {@code 10s}, {@code 2m}, {@code 1h}, or bare seconds ({@code 1.5}). */
public final class Durations {
  private Durations() {
  }

  public static Duration parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    double factorMillis;
    String number;
    if (t.endsWith("ms")) {
      factorMillis = 1;
      number = t.substring(0, t.length() - 2);
    } else if (t.endsWith("s")) {
      factorMillis = 1000;
      number = t.substring(0, t.length() - 1);
    } else if (t.endsWith("m")) {
      factorMillis = 60_000;
      number = t.substring(0, t.length() - 1);
    } else if (t.endsWith("h")) {
      factorMillis = 3_600_000;
      number = t.substring(0, t.length() - 1);
    } else {
      factorMillis = 1000;
      number = t;
    }
    double value;
    try {
      value = Double.parseDouble(number);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("not a duration: '" + text + "' (examples: 500ms, 10s, 2m, 1.5)");
    }
    if (value < 0 || Double.isNaN(value) || Double.isInfinite(value)) {
      throw new IllegalArgumentException("duration must be >= 0: '" + text + "'");
    }
    return Duration.ofNanos(Math.round(value * factorMillis * 1_000_000d));
  }
}
