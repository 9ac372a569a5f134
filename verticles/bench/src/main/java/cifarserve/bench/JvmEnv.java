package cifarserve.bench;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * conf/jvm.env as the harness reads it (packed into this jar at build time): the engine environment
 * every deployment sets and the JVM limits of the benchmark's child JVMs. The scripts source the same
 * file, so a limit changes in one place.
 */
final class JvmEnv {
  private static final Map<String, String> VALUES = load();

  private JvmEnv() {
  }

  /** ENGINE_ENV as NAME -> value, in the file's order. */
  static Map<String, String> engineEnv() {
    return environment("ENGINE_ENV");
  }

  /** A NAME=value list of the file (ENGINE_ENV, TRAIN_ENV) as NAME -> value. */
  static Map<String, String> environment(String name) {
    Map<String, String> env = new LinkedHashMap<>();
    for (String pair : words(name)) {
      int eq = pair.indexOf('=');
      env.put(pair.substring(0, eq), pair.substring(eq + 1));
    }
    return Map.copyOf(env);
  }

  /** A whitespace-separated value of the file (e.g. TRAIN_JVM_LIMITS) as its words. */
  static List<String> words(String name) {
    String value = VALUES.get(name);
    if (value == null) {
      throw new IllegalStateException("conf/jvm.env has no " + name);
    }
    return Arrays.stream(value.trim().split("\\s+")).filter(w -> !w.isEmpty()).toList();
  }

  /** {@code NAME="value"} or {@code NAME=value} lines; comments and blank lines skipped. */
  static Map<String, String> parse(String text) {
    Map<String, String> values = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      String trimmed = line.trim();
      int eq = trimmed.indexOf('=');
      if (trimmed.isEmpty() || trimmed.startsWith("#") || eq <= 0) {
        continue;
      }
      String value = trimmed.substring(eq + 1);
      if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
        value = value.substring(1, value.length() - 1);
      }
      values.put(trimmed.substring(0, eq), value);
    }
    return values;
  }

  private static Map<String, String> load() {
    try (InputStream in = JvmEnv.class.getResourceAsStream("jvm.env")) {
      if (in == null) {
        throw new IllegalStateException("jvm.env missing from the bench jar (copied from conf/ at build time)");
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
