package cifarserve;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** Library versions this build was made with (Maven-filtered resource), for metadata and /metrics. */
public final class BuildInfo {
  private static final Properties VERSIONS = load();

  private BuildInfo() {
  }

  public static String get(String key) {
    return VERSIONS.getProperty(key, "unknown");
  }

  public static JsonObject toJson() {
    JsonObject json = new JsonObject();
    VERSIONS.stringPropertyNames().stream().sorted().forEach(k -> json.put(k, VERSIONS.getProperty(k)));
    json.put("java", System.getProperty("java.version"));
    return json;
  }

  private static Properties load() {
    Properties properties = new Properties();
    try (InputStream in = BuildInfo.class.getResourceAsStream("/cifar-serve-versions.properties")) {
      if (in != null) {
        properties.load(in);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return properties;
  }
}
