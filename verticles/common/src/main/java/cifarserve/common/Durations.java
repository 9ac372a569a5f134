package cifarserve.common;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one duration grammar of the service (OpenFaaS's Go-style timeouts in the environment) and the
 * load tester's command line: a bare number is seconds ({@code 30}, {@code 1.5}); otherwise one or
 * more {@code <number><unit>} terms with units {@code ms}, {@code s}, {@code m}, {@code h}
 * ({@code 500ms}, {@code 2m}, {@code 1m30s}). Case and surrounding blanks are ignored; never negative.
 */
public final class Durations {
  private static final Pattern BARE_SECONDS = Pattern.compile("\\d+(?:\\.\\d+)?");
  private static final Pattern TERM = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)");

  private Durations() {
  }

  public static Duration parse(String text) {
    String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
    if (BARE_SECONDS.matcher(t).matches()) {
      return nanos(Double.parseDouble(t) * 1e9, text);
    }
    Matcher term = TERM.matcher(t);
    double totalNanos = 0;
    int end = 0;
    while (term.find() && term.start() == end) {
      totalNanos += Double.parseDouble(term.group(1)) * switch (term.group(2)) {
        case "ms" -> 1e6;
        case "s" -> 1e9;
        case "m" -> 60e9;
        default -> 3600e9;
      };
      end = term.end();
    }
    if (end == 0 || end != t.length()) {
      throw new IllegalArgumentException("not a duration: '" + text + "' (examples: 500ms, 10s, 2m, 1m30s, 1.5)");
    }
    return nanos(totalNanos, text);
  }

  public static long parseMillis(String text) {
    return parse(text).toMillis();
  }

  private static Duration nanos(double nanos, String text) {
    if (nanos >= Long.MAX_VALUE) {
      throw new IllegalArgumentException("duration too long: '" + text + "'");
    }
    return Duration.ofNanos(Math.round(nanos));
  }
}
