package cifarserve.config;

import io.vertx.core.json.JsonObject;
import java.nio.file.Path;

/**
 * The configuration the verticles run with, as immutable records built once per process from
 * {@link ServiceConfig}'s JSON (defaults, conf/ file, environment). Every default lives in
 * {@code default-config.json}; nothing here or in a verticle restates one. What function mode
 * changes (OpenFaaS's limits replace the server's) is decided here, once.
 *
 * @param json the merged JSON, for the parts that stay JSON on purpose: training options (validated
 *     field by field by {@code TrainingRequest}), the admin token and the cluster secret
 */
public record ServiceSettings(boolean functionMode, Path modelDir, boolean trainOnStart, Http http,
    Inference inference, Cluster cluster, Function function, long drainTimeoutMs, JsonObject json) {

  /** {@code metricsPort} 0: /metrics on the API port; else a listener answering only GET /metrics. */
  public record Http(String host, int port, int metricsPort, long maxBodyBytes, long maxImagePixels, int maxInflight,
      int decodeThreads, int decodeBacklog, long idleTimeoutMs, long bodyReadTimeoutMs) {
  }

  /** {@code threadsPerLane} absent means the machine's cores shared by the lanes. */
  public record Inference(int maxBatchSize, long maxDelayMs, int queueCapacity, long timeoutMs, int lanes,
      int threadsPerLane) {
  }

  /** {@code eventBusHost} null lets Vert.x use the address Hazelcast chose for this member. */
  public record Cluster(boolean enabled, String config, String name, String eventBusHost, int eventBusPort,
      String eventBusPublicHost, int spillQueueImages, long hopTimeoutMs, long modelSyncMs, long trainerLockWaitMs) {
  }

  /** The OpenFaaS workload contract: lock file, {@code max_inflight} and the watchdog's timeouts. */
  public record Function(Path lockFile, int maxInflight, long readTimeoutMs, long writeTimeoutMs,
      long execTimeoutMs) {
  }

  /** {@code config} over the defaults (so a partial object, as tests write, is complete). */
  public static ServiceSettings of(JsonObject config) {
    JsonObject c = ServiceConfig.defaults().mergeIn(config, true);
    try {
      JsonObject h = c.getJsonObject("http");
      JsonObject i = c.getJsonObject("inference");
      JsonObject k = c.getJsonObject("cluster");
      JsonObject f = c.getJsonObject("function");
      int lanes = Math.max(1, i.getInteger("lanes"));
      Integer threads = i.getInteger("threadsPerLane");
      return new ServiceSettings("function".equals(c.getString("mode")), Path.of(c.getString("modelDir")),
          c.getBoolean("trainOnStart"),
          new Http(h.getString("host"), h.getInteger("port"), h.getInteger("metricsPort"), h.getLong("maxBodyBytes"),
              h.getLong("maxImagePixels"),
              h.getInteger("maxInflight"), h.getInteger("decodeThreads"), h.getInteger("decodeBacklog"),
              h.getLong("idleTimeoutMs"), h.getLong("bodyReadTimeoutMs")),
          new Inference(i.getInteger("maxBatchSize"), i.getLong("maxDelayMs"), i.getInteger("queueCapacity"),
              i.getLong("timeoutMs"), lanes,
              Math.max(1, threads != null ? threads : Runtime.getRuntime().availableProcessors() / lanes)),
          new Cluster(k.getBoolean("enabled"), k.getString("config"), k.getString("name"), k.getString("eventBusHost"),
              k.getInteger("eventBusPort"), k.getString("eventBusPublicHost"), k.getInteger("spillQueueImages"),
              k.getLong("hopTimeoutMs"), k.getLong("modelSyncMs"), k.getLong("trainerLockWaitMs")),
          new Function(Path.of(f.getString("lockFile")), f.getInteger("maxInflight"), f.getLong("readTimeoutMs"),
              f.getLong("writeTimeoutMs"), f.getLong("execTimeoutMs")),
          c.getJsonObject("shutdown").getLong("drainTimeoutMs"), c);
    } catch (ClassCastException | NullPointerException e) {
      throw new IllegalArgumentException("configuration has a missing or mistyped value: " + e.getMessage(), e);
    }
  }

  /** Requests admitted at once (each may hold a body of up to maxBodyBytes); 0 = no limit. */
  public int maxInflight() {
    return functionMode ? function.maxInflight() : http.maxInflight();
  }

  /** Idle connections close after this; the function's read_timeout replaces the server's. */
  public long idleTimeoutMs() {
    return functionMode ? function.readTimeoutMs() : http.idleTimeoutMs();
  }

  /** A request's inference deadline; a function never waits past its exec_timeout. */
  public long inferenceTimeoutMs() {
    return functionMode ? Math.min(inference.timeoutMs(), function.execTimeoutMs()) : inference.timeoutMs();
  }

  /** How long SIGTERM waits for open requests; a function has its write_timeout. */
  public long drainMs() {
    return functionMode ? function.writeTimeoutMs() : drainTimeoutMs;
  }

  /** The training defaults requests are merged over (a copy: callers may add to it). */
  public JsonObject training() {
    return json.getJsonObject("training").copy();
  }
}
