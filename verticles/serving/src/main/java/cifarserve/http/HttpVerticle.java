package cifarserve.http;

import cifarserve.Addresses;
import cifarserve.config.ServiceSettings;
import cifarserve.data.CifarClasses;
import cifarserve.model.ModelVersion;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP API. The event loop parses, validates and replies; image and large-JSON decoding run on
 * worker threads, predictions on the inference verticle. Every failure is a JSON {"error": ...}.
 *
 * <p>In function mode (OpenFaaS) it also speaks the workload contract: /_/health and /_/ready, the
 * lock file, {@code max_inflight} (429) and {@code exec_timeout}.
 */
public final class HttpVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(HttpVerticle.class);
  public static final String MODEL_NAME = "cifar10-cnn";
  /** Local event telling the HTTP side that the process is going down: fail health, drop the lock. */
  public static final String DRAINING = "cifar.http.draining";
  /** Quiet spell (no request starting or ending) after which draining stops accepting and closes idle connections. */
  static final long DRAIN_QUIET_MS = 500;

  private final ServiceSettings settings;
  private HttpServer server;
  /** The metrics-only listener when {@code http.metricsPort} is set; /metrics then leaves the API port. */
  private HttpServer metricsServer;
  private int metricsPort;
  private volatile JsonObject model;
  private final RequestGate gate = new RequestGate();
  private final boolean functionMode;
  private final Path lockFile;
  private DecodePool decodePool;
  private InferenceHandlers inference;

  public HttpVerticle(ServiceSettings settings) {
    this.settings = settings;
    this.functionMode = settings.functionMode();
    this.lockFile = settings.function().lockFile();
  }

  @Override
  public Future<?> start() {
    ServiceSettings.Http http = settings.http();
    gate.maxInflight(settings.maxInflight());
    int maxQueuedImages = Math.min(InferenceRequests.MAX_BATCH, settings.inference().queueCapacity());
    decodePool = new DecodePool(vertx, http.decodeThreads(), http.decodeBacklog());
    inference = new InferenceHandlers(vertx, decodePool, settings.inferenceTimeoutMs(), http.maxImagePixels(),
        maxQueuedImages, () -> model != null);

    vertx.eventBus().<JsonObject>localConsumer(Addresses.MODEL_LOADED, message -> onModelLoaded(message.body()));
    vertx.eventBus().localConsumer(DRAINING, message -> {
      startDraining();
      message.reply(null);
    });
    // The inference verticle may have loaded a model before we subscribed: ask once.
    vertx.eventBus().<JsonObject>request(Addresses.MODEL_INFO, null)
        .onSuccess(reply -> onModelLoaded(reply.body()));

    HttpServerOptions options = new HttpServerOptions()
        .setHost(http.host())
        .setPort(http.port())
        .setCompressionSupported(true)
        // HTTP/1.1 only. With cleartext HTTP/2 detection on (Vert.x's default) a new connection stays
        // in the h2c sniffing handler until its first bytes arrive: shutdown() does not see it (a
        // request sent on it after SIGTERM held the drain for the whole timeout), and Micrometer's
        // per-connection metric can be missing (NPE on the first request right after listen).
        .setHttp2ClearTextEnabled(false);
    long idleMs = settings.idleTimeoutMs();
    if (idleMs > 0) {
      options.setIdleTimeout((int) idleMs).setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
    }
    BodyReadDeadline bodyDeadline = new BodyReadDeadline(vertx, http.bodyReadTimeoutMs());
    metricsPort = http.metricsPort();
    server = vertx.createHttpServer(options).requestHandler(router(http.maxBodyBytes(), bodyDeadline));
    Future<?> metrics = metricsPort == 0 ? Future.succeededFuture()
        : MetricsListener.listen(vertx, options.getHost(), metricsPort).onSuccess(s -> {
          metricsServer = s;
          LOG.info("Metrics listening on http://{}:{}/metrics", options.getHost(), s.actualPort());
        });
    return metrics.compose(m -> server.listen()).onSuccess(s -> LOG.info("HTTP API listening on http://{}:{}/ ({} mode)",
        options.getHost(), s.actualPort(), functionMode ? "function" : "server"));
  }

  /**
   * Drains, then stops: readiness turns 503 at once and every answer asks for the connection to be
   * closed; once no request has started or ended for {@link #DRAIN_QUIET_MS} (at most the drain
   * timeout), the server stops accepting, closes idle connections and lets open requests finish.
   *
   * <p>Why the quiet spell before shutdown(): shutdown() closes a connection that has no request in
   * progress, including one accepted a moment ago whose request is still on its way: its client would
   * get an empty reply (seen once in 120 requests of a docker-stop burst). Clients send their request
   * right after connecting, so a short quiet spell means none is on its way (Go's http.Server gives
   * such new connections a grace period for the same reason).
   */
  @Override
  public Future<?> stop() {
    startDraining();
    long drainMs = settings.drainMs();
    if (server == null) {
      return Future.succeededFuture();
    }
    long drainDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(drainMs);
    Promise<Void> quiet = Promise.promise();
    long watcher = vertx.setPeriodic(20, id -> {
      long now = System.nanoTime();
      boolean isQuiet = gate.quietFor(TimeUnit.MILLISECONDS.toNanos(DRAIN_QUIET_MS));
      if (isQuiet || now >= drainDeadline) {
        vertx.cancelTimer(id);
        quiet.tryComplete();
      }
    });
    return quiet.future().compose(v -> {
      long leftMs = Math.max(1_000, TimeUnit.NANOSECONDS.toMillis(drainDeadline - System.nanoTime()));
      return server.shutdown(leftMs, TimeUnit.MILLISECONDS);
    }).eventually(() -> {
      vertx.cancelTimer(watcher);
      return decodePool.close();
    }).eventually(() -> metricsServer == null ? Future.succeededFuture() : metricsServer.close());
  }

  public int actualPort() {
    return server.actualPort();
  }

  /** The metrics-only listener's port, or 0 when /metrics is on the API port. */
  public int metricsActualPort() {
    return metricsServer == null ? 0 : metricsServer.actualPort();
  }

  private Router router(long maxBodyBytes, BodyReadDeadline bodyDeadline) {
    Router router = Router.router(vertx);
    Handler<RoutingContext> failure = ctx -> Responses.failure(ctx, maxBodyBytes);
    router.route().failureHandler(failure);
    router.route().handler(RequestIds::assign);
    router.route().handler(gate::track);

    router.get("/").handler(this::study);
    router.get("/v2/health/live").handler(ctx -> Responses.json(ctx, 200, new JsonObject().put("live", true)));
    router.get("/v2/health/ready").handler(ctx -> ready(ctx, model != null && !gate.draining()));
    router.get("/v2").handler(ctx -> Responses.json(ctx, 200, new JsonObject().put("name", "cifar-serve")
        .put("version", cifarserve.BuildInfo.get("app")).put("extensions", new JsonArray())));
    router.get("/v2/models/" + MODEL_NAME).handler(this::modelMetadata);
    router.get("/v2/models/" + MODEL_NAME + "/ready").handler(ctx -> ready(ctx, model != null && !gate.draining()));
    if (metricsPort == 0) {
      router.get("/metrics").handler(PrometheusScrapingHandler.create());
    }
    router.get("/train/status").handler(this::trainStatus);
    router.get("/_/health").handler(this::functionHealth);
    router.get("/_/ready").handler(this::functionReady);

    BodyHandler body = BodyHandler.create(false).setBodyLimit(maxBodyBytes);
    // Admission runs before the body is read, so a request over max_inflight costs no upload.
    // The deadline is mounted per path: a path-less POST route would make every unknown path a 405.
    for (String bodyPath : List.of("/v1/classify", "/", "/v2/models/" + MODEL_NAME + "/infer", "/train")) {
      router.post(bodyPath).handler(bodyDeadline);
    }
    router.post("/v1/classify").handler(gate::admit);
    router.post("/v1/classify").handler(body).handler(inference::classify);
    // OpenFaaS invokes a function at its root (faas-cli invoke, /function/NAME): POST / classifies too.
    router.post("/").handler(gate::admit);
    router.post("/").handler(body).handler(inference::classify);
    router.post("/v2/models/" + MODEL_NAME + "/infer").handler(gate::admit);
    router.post("/v2/models/" + MODEL_NAME + "/infer").handler(body).handler(inference::infer);
    AdminRoutes.mount(router, vertx, settings.json());
    // No route for the path (404), or only for other methods (405): the same JSON error as any failure.
    router.errorHandler(404, failure);
    router.errorHandler(405, failure);
    return router;
  }

  /** GET /: the study's endpoint, the current model's accuracy. */
  private void study(RoutingContext ctx) {
    JsonObject current = model;
    if (current == null) {
      vertx.eventBus().<JsonObject>request(Addresses.TRAINING_STATUS, null)
          .map(Message::body).otherwise(new JsonObject().put("state", "unknown"))
          .onSuccess(training -> Responses.json(ctx, 503, new JsonObject().put("status", "no-model")
              .put("error", "no model is loaded yet").put("training", training)));
      return;
    }
    Responses.json(ctx, 200, new JsonObject()
        .put("status", "ready")
        .put("model", MODEL_NAME)
        .put("version", current.getString("version"))
        .put("accuracy", current.getValue("accuracy"))
        .put("testImages", current.getValue("testImages"))
        .put("epochs", current.getValue("epochs"))
        .put("trainImages", current.getValue("trainImages"))
        .put("trainedAt", current.getValue("trainedAt"))
        .put("trainingSeconds", current.getValue("trainingSeconds")));
  }

  private void modelMetadata(RoutingContext ctx) {
    JsonObject current = model;
    JsonObject body = new JsonObject()
        .put("name", MODEL_NAME)
        .put("versions", current == null ? new JsonArray() : new JsonArray().add(current.getString("version")))
        .put("platform", "onnxruntime_onnx")
        .put("inputs", new JsonArray().add(new JsonObject().put("name", "input").put("datatype", "FP32")
            .put("shape", new JsonArray().add(-1).add(3).add(32).add(32))
            .put("parameters", new JsonObject().put("layout", "NCHW").put("range", "FP32: 0-1; UINT8: 0-255")
                .put("alsoAccepts", "UINT8"))))
        .put("outputs", new JsonArray()
            .add(new JsonObject().put("name", "probabilities").put("datatype", "FP32")
                .put("shape", new JsonArray().add(-1).add(CifarClasses.COUNT)))
            .add(new JsonObject().put("name", "label").put("datatype", "BYTES").put("shape", new JsonArray().add(-1))))
        .put("parameters", new JsonObject().put("classes", new JsonArray(CifarClasses.NAMES)));
    if (current != null) {
      body.put("accuracy", current.getValue("accuracy"));
    }
    Responses.json(ctx, 200, body);
  }

  private void ready(RoutingContext ctx, boolean ready) {
    Responses.json(ctx, ready ? 200 : 503, new JsonObject().put("ready", ready));
  }

  private void functionHealth(RoutingContext ctx) {
    boolean healthy = model != null && !gate.draining() && (!functionMode || Files.exists(lockFile));
    Responses.json(ctx, healthy ? 200 : 503, new JsonObject().put("healthy", healthy));
  }

  private void functionReady(RoutingContext ctx) {
    if (gate.full()) {
      Responses.json(ctx, 429, new JsonObject().put("ready", false).put("error", "max_inflight (" + gate.maxInflight() + ") reached"));
      return;
    }
    functionHealth(ctx);
  }

  private void trainStatus(RoutingContext ctx) {
    vertx.eventBus().<JsonObject>request(Addresses.TRAINING_STATUS, null)
        .onSuccess(reply -> Responses.json(ctx, 200, reply.body()))
        .onFailure(e -> Responses.error(ctx, 503, "training is not available on this node"));
  }

  private void onModelLoaded(JsonObject metadata) {
    JsonObject current = model;
    if (current == null || ModelVersion.of(metadata).isNewerThan(ModelVersion.of(current))) {
      model = metadata;
      if (functionMode && !gate.draining()) {
        writeLockFile();
      }
    }
  }

  private void writeLockFile() {
    vertx.fileSystem().writeFile(lockFile.toString(), Buffer.buffer())
        .onFailure(e -> LOG.error("Could not write the function lock file {}: {}", lockFile, e.getMessage()));
  }

  private void startDraining() {
    if (!gate.startDraining()) {
      return;
    }
    LOG.info("Draining: not ready, answers ask clients to close their connection");
    if (functionMode) {
      try {
        Files.deleteIfExists(lockFile);
      } catch (java.io.IOException e) {
        LOG.warn("Could not remove the lock file {}: {}", lockFile, e.getMessage());
      }
    }
  }
}
