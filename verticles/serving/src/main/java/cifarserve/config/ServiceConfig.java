package cifarserve.config;

import cifarserve.common.Durations;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The service's configuration: built-in defaults, overlaid by a JSON file from {@code conf/}, overlaid
 * by environment variables. Read once at start-up and passed down to the verticles as JSON.
 */
public final class ServiceConfig {
  /** An environment variable, the JSON path it overrides, and how to read its value. */
  record EnvOverride(String variable, String path, Kind kind) {
  }

  enum Kind { STRING, INT, LONG, DOUBLE, BOOLEAN, DURATION_MS }

  /** Environment overrides; OpenFaaS's own variable names are honoured as the platform sets them. */
  static final List<EnvOverride> ENV_OVERRIDES = List.of(
      new EnvOverride("CIFAR_MODE", "mode", Kind.STRING),
      new EnvOverride("HTTP_HOST", "http.host", Kind.STRING),
      new EnvOverride("HTTP_PORT", "http.port", Kind.INT),
      new EnvOverride("METRICS_PORT", "http.metricsPort", Kind.INT),
      new EnvOverride("MAX_BODY_BYTES", "http.maxBodyBytes", Kind.LONG),
      new EnvOverride("MAX_IMAGE_PIXELS", "http.maxImagePixels", Kind.LONG),
      new EnvOverride("HTTP_MAX_INFLIGHT", "http.maxInflight", Kind.INT),
      new EnvOverride("DECODE_THREADS", "http.decodeThreads", Kind.INT),
      new EnvOverride("DECODE_BACKLOG", "http.decodeBacklog", Kind.INT),
      new EnvOverride("HTTP_IDLE_TIMEOUT_MS", "http.idleTimeoutMs", Kind.LONG),
      new EnvOverride("BODY_READ_TIMEOUT_MS", "http.bodyReadTimeoutMs", Kind.LONG),
      new EnvOverride("MODEL_DIR", "modelDir", Kind.STRING),
      new EnvOverride("CIFAR_DIR", "cifarDir", Kind.STRING),
      new EnvOverride("CIFAR_CACHE_DIR", "cifarCacheDir", Kind.STRING),
      new EnvOverride("TRAIN_ON_START", "trainOnStart", Kind.BOOLEAN),
      new EnvOverride("ADMIN_TOKEN_FILE", "admin.tokenFile", Kind.STRING),
      new EnvOverride("ACCURACY_GATE_ENABLED", "accuracyGate.enabled", Kind.BOOLEAN),
      new EnvOverride("ACCURACY_GATE_MIN", "accuracyGate.minAccuracy", Kind.DOUBLE),
      new EnvOverride("ACCURACY_GATE_TOLERANCE", "accuracyGate.tolerance", Kind.DOUBLE),
      new EnvOverride("TRAIN_EPOCHS", "training.epochs", Kind.DOUBLE),
      new EnvOverride("TRAIN_LIMIT", "training.trainLimit", Kind.INT),
      new EnvOverride("TEST_LIMIT", "training.testLimit", Kind.INT),
      new EnvOverride("INFERENCE_MAX_BATCH_SIZE", "inference.maxBatchSize", Kind.INT),
      new EnvOverride("INFERENCE_MAX_DELAY_MS", "inference.maxDelayMs", Kind.INT),
      new EnvOverride("INFERENCE_QUEUE_CAPACITY", "inference.queueCapacity", Kind.INT),
      new EnvOverride("INFERENCE_TIMEOUT_MS", "inference.timeoutMs", Kind.LONG),
      new EnvOverride("INFERENCE_LANES", "inference.lanes", Kind.INT),
      new EnvOverride("INFERENCE_THREADS_PER_LANE", "inference.threadsPerLane", Kind.INT),
      new EnvOverride("CLUSTER_ENABLED", "cluster.enabled", Kind.BOOLEAN),
      new EnvOverride("CLUSTER_CONFIG", "cluster.config", Kind.STRING),
      new EnvOverride("CLUSTER_NAME", "cluster.name", Kind.STRING),
      new EnvOverride("CLUSTER_SECRET_FILE", "cluster.secretFile", Kind.STRING),
      new EnvOverride("CLUSTER_ACCEPT_UNSIGNED_MODELS", "cluster.acceptUnsignedModels", Kind.BOOLEAN),
      new EnvOverride("CLUSTER_SPILL_QUEUE_IMAGES", "cluster.spillQueueImages", Kind.INT),
      new EnvOverride("CLUSTER_HOP_TIMEOUT_MS", "cluster.hopTimeoutMs", Kind.LONG),
      new EnvOverride("CLUSTER_MODEL_SYNC_MS", "cluster.modelSyncMs", Kind.LONG),
      new EnvOverride("CLUSTER_TRAINER_LOCK_WAIT_MS", "cluster.trainerLockWaitMs", Kind.LONG),
      new EnvOverride("EVENTBUS_HOST", "cluster.eventBusHost", Kind.STRING),
      new EnvOverride("EVENTBUS_PORT", "cluster.eventBusPort", Kind.INT),
      new EnvOverride("EVENTBUS_PUBLIC_HOST", "cluster.eventBusPublicHost", Kind.STRING),
      new EnvOverride("SHUTDOWN_DRAIN_MS", "shutdown.drainTimeoutMs", Kind.LONG),
      new EnvOverride("max_inflight", "function.maxInflight", Kind.INT),
      new EnvOverride("read_timeout", "function.readTimeoutMs", Kind.DURATION_MS),
      new EnvOverride("write_timeout", "function.writeTimeoutMs", Kind.DURATION_MS),
      new EnvOverride("exec_timeout", "function.execTimeoutMs", Kind.DURATION_MS));

  private ServiceConfig() {
  }

  /** Defaults + {@code file} (if non-null) + the process environment. */
  public static JsonObject load(Path file) {
    return load(file, System.getenv());
  }

  public static JsonObject load(Path file, Map<String, String> environment) {
    JsonObject config = defaults();
    if (file != null) {
      try {
        config.mergeIn(new JsonObject(Files.readString(file, StandardCharsets.UTF_8)), true);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read config file " + file, e);
      } catch (io.vertx.core.json.DecodeException e) {
        throw new IllegalArgumentException("config file " + file + " is not valid JSON: " + e.getMessage(), e);
      }
    }
    for (EnvOverride override : ENV_OVERRIDES) {
      String value = environment.get(override.variable());
      if (value != null && !value.isBlank()) {
        put(config, override.path(), parse(override, value.trim()));
      }
    }
    return config;
  }

  public static JsonObject defaults() {
    try (InputStream in = ServiceConfig.class.getResourceAsStream("/default-config.json")) {
      if (in == null) {
        throw new IllegalStateException("default-config.json missing from the classpath");
      }
      return new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Object parse(EnvOverride override, String value) {
    try {
      return switch (override.kind()) {
        case STRING -> value;
        case INT -> Integer.parseInt(value);
        case LONG -> Long.parseLong(value);
        case DOUBLE -> Double.parseDouble(value);
        case BOOLEAN -> parseBoolean(value);
        case DURATION_MS -> Durations.parseMillis(value);
      };
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "environment variable " + override.variable() + "=" + value + " is not a valid " + override.kind(), e);
    }
  }

  private static boolean parseBoolean(String value) {
    return switch (value.toLowerCase()) {
      case "true", "1", "yes", "on" -> true;
      case "false", "0", "no", "off" -> false;
      default -> throw new IllegalArgumentException("not a boolean: " + value);
    };
  }

  private static void put(JsonObject config, String path, Object value) {
    String[] parts = path.split("\\.");
    JsonObject node = config;
    for (int i = 0; i < parts.length - 1; i++) {
      JsonObject child = node.getJsonObject(parts[i]);
      if (child == null) {
        child = new JsonObject();
        node.put(parts[i], child);
      }
      node = child;
    }
    node.put(parts[parts.length - 1], value);
  }
}
