package cifarserve.cli;

import cifarserve.config.ServiceConfig;
import cifarserve.http.HttpVerticle;
import cifarserve.inference.InferenceVerticle;
import cifarserve.training.TrainingVerticle;
import com.hazelcast.config.Config;
import com.hazelcast.config.FileSystemXmlConfig;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.MicrometerMetricsOptions;
import io.vertx.micrometer.VertxPrometheusOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Serve the newest model in the model dir over HTTP (training one first if configured to).")
public final class ServeCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(ServeCommand.class);
  private static volatile boolean serving;

  @Option(names = "--conf", description = "JSON config file, e.g. conf/local.json (environment variables override it)")
  Path conf;

  @Option(names = "--cluster", description = "join a Hazelcast cluster (default: config cluster.enabled)")
  Boolean cluster;

  @Option(names = "--cluster-config", description = "Hazelcast XML (default: config cluster.config)")
  Path clusterConfig;

  @Option(names = "--cluster-name", description = "Hazelcast cluster name, overriding the XML's (default: config cluster.name)")
  String clusterName;

  /** True once a server is up: main() then leaves the JVM running. */
  public static boolean isServing() {
    return serving;
  }

  @Override
  public Integer call() {
    long started = System.nanoTime();
    JsonObject config;
    try {
      config = ServiceConfig.load(conf);
      if (cluster != null) {
        config.getJsonObject("cluster").put("enabled", cluster);
      }
      if (clusterConfig != null) {
        config.getJsonObject("cluster").put("config", clusterConfig.toString());
      }
      if (clusterName != null) {
        config.getJsonObject("cluster").put("name", clusterName);
      }
    } catch (RuntimeException e) {
      System.err.println("error: " + Cli.describe(e));
      return 2;
    }
    try {
      Vertx vertx = startVertx(config).toCompletionStage().toCompletableFuture().get(5, TimeUnit.MINUTES);
      Server server = Server.deploy(vertx, config).toCompletionStage().toCompletableFuture().get(5, TimeUnit.MINUTES);
      serving = true;
      installSignalHandlers(server);
      JsonObject http = config.getJsonObject("http");
      String base = "http://" + http.getString("host") + ":" + server.port();
      System.out.printf("cifar-serve listening on %s (started in %d ms)%n", base, (System.nanoTime() - started) / 1_000_000);
      System.out.println("  model accuracy:  curl " + base + "/");
      System.out.println("  classify a PNG:  curl -H 'Content-Type: image/png' --data-binary @cat.png " + base + "/v1/classify");
      System.out.println("  metrics:         curl " + base + "/metrics");
      return 0;
    } catch (Exception e) {
      System.err.println("error: could not start the server: " + Cli.describe(e.getCause() != null ? e.getCause() : e));
      return 1;
    }
  }

  public static Future<Vertx> startVertx(JsonObject config) {
    VertxOptions options = new VertxOptions().setMetricsOptions(new MicrometerMetricsOptions()
        .setEnabled(true)
        .setJvmMetricsEnabled(true)
        .setPrometheusOptions(new VertxPrometheusOptions().setEnabled(true)));
    var builder = Vertx.builder().with(options);
    JsonObject cluster = config.getJsonObject("cluster", new JsonObject());
    if (!cluster.getBoolean("enabled", false)) {
      return Future.succeededFuture(builder.build());
    }
    // A null host (conf/ec2.json) lets Vert.x use the address Hazelcast chose for this member.
    if (cluster.getString("eventBusHost") != null) {
      options.getEventBusOptions().setHost(cluster.getString("eventBusHost"));
    }
    options.getEventBusOptions().setPort(cluster.getInteger("eventBusPort", 0));
    if (cluster.getString("eventBusPublicHost") != null) {
      options.getEventBusOptions().setClusterPublicHost(cluster.getString("eventBusPublicHost"));
    }
    try {
      Config hazelcast = new FileSystemXmlConfig(cluster.getString("config", "conf/cluster-local.xml"));
      // Vert.x leaves the cluster itself on shutdown; Hazelcast's own hook would race it.
      hazelcast.setProperty("hazelcast.shutdownhook.enabled", "false");
      // Members join only members of the same name: one name per deployment (or per test run).
      String name = cluster.getString("name");
      if (name != null && !name.isBlank()) {
        hazelcast.setClusterName(name);
      }
      return builder.withClusterManager(new HazelcastClusterManager(hazelcast)).buildClustered();
    } catch (java.io.FileNotFoundException e) {
      return Future.failedFuture(new IllegalArgumentException("cluster config not found: " + e.getMessage()));
    }
  }

  /** The deployed verticles of one node. */
  public record Server(Vertx vertx, String httpDeployment, int port) {
    public static Future<Server> deploy(Vertx vertx, JsonObject config) {
      DeploymentOptions plain = new DeploymentOptions().setConfig(config);
      HttpVerticle http = new HttpVerticle();
      // Inference first: the HTTP side asks it for the loaded model once it starts.
      return vertx.deployVerticle(new InferenceVerticle(), plain)
          .compose(id -> vertx.deployVerticle(new TrainingVerticle(), plain))
          .compose(id -> vertx.deployVerticle(http, new DeploymentOptions(plain).setThreadingModel(ThreadingModel.EVENT_LOOP)))
          .map(id -> new Server(vertx, id, http.actualPort()));
    }

    /**
     * Graceful stop: health turns 503 and the lock file goes, the HTTP server stops accepting and
     * finishes in-flight requests (inference keeps running for them). A training run is cancelled at
     * once (it stops within one batch, keeps the serving model and releases the cluster's lock), not
     * after the drain. The caller then closes Vert.x.
     */
    public Future<Void> drain() {
      vertx.eventBus().request(cifarserve.Addresses.TRAINING_CANCEL, null);
      return vertx.eventBus().request(HttpVerticle.DRAINING, null)
          .transform(v -> vertx.undeploy(httpDeployment));
    }
  }

  /** SIGTERM/SIGINT drain in-flight requests, then the process exits 0 (OpenFaaS and systemd expect it). */
  private static void installSignalHandlers(Server server) {
    CountDownLatch once = new CountDownLatch(1);
    sun.misc.SignalHandler handler = signal -> {
      if (once.getCount() == 0) {
        return;
      }
      once.countDown();
      LOG.info("SIG{} received: draining in-flight requests", signal.getName());
      new Thread(() -> {
        try {
          server.drain().toCompletionStage().toCompletableFuture().get(10, TimeUnit.MINUTES);
          // Closed from this plain thread, not chained on an event-loop future: the loops are gone by then.
          server.vertx().close().toCompletionStage().toCompletableFuture().get(2, TimeUnit.MINUTES);
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
