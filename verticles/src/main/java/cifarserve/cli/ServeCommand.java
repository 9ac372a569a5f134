package cifarserve.cli;

import cifarserve.Server;
import cifarserve.cluster.ModelMapMergePolicy;
import cifarserve.config.ServiceConfig;
import cifarserve.config.ServiceSettings;
import cifarserve.model.ArtifactSignature;
import cifarserve.training.TrainingVerticle;
import com.hazelcast.config.Config;
import com.hazelcast.config.FileSystemXmlConfig;
import io.vertx.core.Deployable;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Serve the newest model in the model dir over HTTP (training one first if configured to).")
public final class ServeCommand implements Callable<Integer> {
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
    ServiceSettings settings;
    try {
      JsonObject config = ServiceConfig.load(conf);
      if (cluster != null) {
        config.getJsonObject("cluster").put("enabled", cluster);
      }
      if (clusterConfig != null) {
        config.getJsonObject("cluster").put("config", clusterConfig.toString());
      }
      if (clusterName != null) {
        config.getJsonObject("cluster").put("name", clusterName);
      }
      settings = ServiceSettings.of(config);
    } catch (RuntimeException e) {
      System.err.println("error: " + Cli.describe(e));
      return 2;
    }
    try {
      Vertx vertx = startVertx(settings).toCompletionStage().toCompletableFuture().get(5, TimeUnit.MINUTES);
      Server server = deploy(vertx, settings).toCompletionStage().toCompletableFuture().get(5, TimeUnit.MINUTES);
      serving = true;
      server.drainOnSignals();
      String base = "http://" + settings.http().host() + ":" + server.port();
      System.out.printf("cifar-serve listening on %s (started in %d ms)%n", base, (System.nanoTime() - started) / 1_000_000);
      System.out.println(cifarserve.StartupMarks.line());
      System.out.println("  model accuracy:  curl " + base + "/");
      System.out.println("  classify a PNG:  curl -H 'Content-Type: image/png' --data-binary @cat.png " + base + "/v1/classify");
      System.out.println("  metrics:         curl " + base + "/metrics");
      return 0;
    } catch (Exception e) {
      System.err.println("error: could not start the server: " + Cli.describe(e.getCause() != null ? e.getCause() : e));
      return 1;
    }
  }

  public static Future<Vertx> startVertx(ServiceSettings settings) {
    VertxOptions options = Server.vertxOptions();
    var builder = Vertx.builder().with(options);
    ServiceSettings.Cluster cluster = settings.cluster();
    if (!cluster.enabled()) {
      return Future.succeededFuture(builder.build());
    }
    // A null host (conf/ec2.json) lets Vert.x use the address Hazelcast chose for this member.
    if (cluster.eventBusHost() != null) {
      options.getEventBusOptions().setHost(cluster.eventBusHost());
    }
    options.getEventBusOptions().setPort(cluster.eventBusPort());
    if (cluster.eventBusPublicHost() != null) {
      options.getEventBusOptions().setClusterPublicHost(cluster.eventBusPublicHost());
    }
    try {
      // The model map's split-brain merge keeps the newest version that verifies with this secret.
      ModelMapMergePolicy.trust(ArtifactSignature.from(settings.json()));
      Config hazelcast = new FileSystemXmlConfig(cluster.config());
      // Vert.x leaves the cluster itself on shutdown; Hazelcast's own hook would race it.
      hazelcast.setProperty("hazelcast.shutdownhook.enabled", "false");
      // Members join only members of the same name: one name per deployment (or per test run).
      String name = cluster.name();
      if (name != null && !name.isBlank()) {
        hazelcast.setClusterName(name);
      }
      return builder.withClusterManager(new HazelcastClusterManager(hazelcast)).buildClustered();
    } catch (java.io.FileNotFoundException e) {
      return Future.failedFuture(new IllegalArgumentException("cluster config not found: " + e.getMessage()));
    }
  }

  /** The node's verticles: inference, training (this node may train), HTTP. */
  public static Future<Server> deploy(Vertx vertx, ServiceSettings settings) {
    return Server.deploy(vertx, settings, List.<Deployable>of(new TrainingVerticle(settings)));
  }
}
