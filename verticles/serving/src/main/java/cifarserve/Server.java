package cifarserve;

import cifarserve.config.ServiceSettings;
import cifarserve.http.HttpVerticle;
import cifarserve.inference.InferenceVerticle;
import cifarserve.model.OnnxModel;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Deployable;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/** The deployed verticles of one process: inference, whatever the caller adds (training), then HTTP. */
public record Server(Vertx vertx, String httpDeployment, int port) {
  private static final Logger LOG = LoggerFactory.getLogger(Server.class);

  /** Vert.x options every deployment uses: Micrometer metrics with the Prometheus endpoint. */
  public static VertxOptions vertxOptions() {
    return new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions()
        .setEnabled(true)
        .setJvmMetricsEnabled(true)
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)));
  }

  public static Future<Server> deploy(Vertx vertx, ServiceSettings settings, List<Deployable> alongside) {
    return deploy(vertx, settings, new InferenceVerticle(settings), alongside);
  }

  /** The same with the initial model loading since the process started (see {@link cifarserve.model.ModelPreload}). */
  public static Future<Server> deploy(Vertx vertx, ServiceSettings settings,
      CompletionStage<Optional<OnnxModel>> preloaded) {
    return deploy(vertx, settings, new InferenceVerticle(settings, preloaded), List.of());
  }

  private static Future<Server> deploy(Vertx vertx, ServiceSettings settings, InferenceVerticle inference,
      List<Deployable> alongside) {
    DeploymentOptions plain = new DeploymentOptions();
    HttpVerticle http = new HttpVerticle(settings);
    // Inference first: the HTTP side asks it for the loaded model once it starts.
    Future<String> deployed = vertx.deployVerticle(inference, plain);
    for (Deployable verticle : alongside) {
      deployed = deployed.compose(id -> vertx.deployVerticle(verticle, plain));
    }
    return deployed
        .compose(id -> vertx.deployVerticle(http, new DeploymentOptions(plain).setThreadingModel(ThreadingModel.EVENT_LOOP)))
        .map(id -> new Server(vertx, id, http.actualPort()));
  }

  /**
   * Graceful stop: health turns 503 and the lock file goes, the HTTP server stops accepting and
   * finishes in-flight requests (inference keeps running for them). A training run, where one is
   * deployed, is cancelled at once (it stops within one batch, keeps the serving model and releases the
   * cluster's lock), not after the drain. The caller then closes Vert.x.
   */
  public Future<Void> drain() {
    vertx.eventBus().request(Addresses.TRAINING_CANCEL, null);
    return vertx.eventBus().request(HttpVerticle.DRAINING, null)
        .transform(v -> vertx.undeploy(httpDeployment));
  }

  /** SIGTERM/SIGINT drain in-flight requests, then the process exits 0 (OpenFaaS and systemd expect it). */
  public void drainOnSignals() {
    CountDownLatch once = new CountDownLatch(1);
    sun.misc.SignalHandler handler = signal -> {
      if (once.getCount() == 0) {
        return;
      }
      once.countDown();
      LOG.info("SIG{} received: draining in-flight requests", signal.getName());
      new Thread(() -> {
        try {
          drain().toCompletionStage().toCompletableFuture().get(10, TimeUnit.MINUTES);
          // Closed from this plain thread, not chained on an event-loop future: the loops are gone by then.
          vertx.close().toCompletionStage().toCompletableFuture().get(2, TimeUnit.MINUTES);
          LOG.info("Drained and stopped");
          System.exit(0);
        } catch (Exception e) {
          LOG.error("Shutdown did not complete cleanly: {}", e.toString());
          System.exit(1);
        }
      }, "shutdown").start();
    };
    Signal.handle(new Signal("TERM"), handler);
    Signal.handle(new Signal("INT"), handler);
  }
}
