package cifarserve;

import cifarserve.cli.ServeCommand;
import cifarserve.config.ServiceConfig;
import cifarserve.config.ServiceSettings;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.WebClient;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/** Starts the real service (all verticles, metrics on) on 127.0.0.1 with a random port. */
public final class TestServers {
  private TestServers() {
  }

  /** A loopback port free at the time of asking (for servers started in another JVM). */
  public static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  /** The admin token every test server accepts (written next to its models). */
  public static final String ADMIN_TOKEN = "test-admin-token-0123456789";

  /** Adds the admin bearer token to a request. */
  public static <T> HttpRequest<T> admin(HttpRequest<T> request) {
    return request.putHeader("Authorization", "Bearer " + ADMIN_TOKEN);
  }

  /**
   * Defaults with test-friendly values; {@code overrides} is merged in deeply. Admin endpoints are on
   * (token {@link #ADMIN_TOKEN}); the accuracy gate is off, since tests train tiny models on purpose.
   */
  public static JsonObject config(Path modelDir, JsonObject overrides) {
    JsonObject config = ServiceConfig.load(null, Map.of());
    config.put("modelDir", modelDir.toString());
    try {
      Path tokenFile = Files.createDirectories(modelDir).resolve("admin-token");
      Files.writeString(tokenFile, ADMIN_TOKEN);
      config.put("admin", new JsonObject().put("tokenFile", tokenFile.toString()));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    config.put("accuracyGate", new JsonObject().put("enabled", false));
    config.put("trainOnStart", false);
    config.getJsonObject("http").put("host", "127.0.0.1").put("port", 0);
    String cifarDir = System.getenv("CIFAR_DIR");
    if (cifarDir != null && !cifarDir.isBlank()) {
      config.put("cifarDir", cifarDir);
    }
    return config.mergeIn(overrides, true);
  }

  /**
   * The real {@code serve} command in its own JVM (this test classpath, {@code -Xmx1g}), output into
   * {@code log}; no training at start unless {@code env} says so.
   */
  public static Process startProcess(Path log, Map<String, String> env) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx1g", "-cp", System.getProperty("java.class.path"), "cifarserve.Main", "serve")
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    builder.environment().put("TRAIN_ON_START", "false");
    builder.environment().putAll(env);
    return builder.start();
  }

  public static Server start(JsonObject config) {
    Main.enableEngineHelpers();
    ServiceSettings settings = ServiceSettings.of(config);
    Vertx vertx = await(ServeCommand.startVertx(settings));
    return await(ServeCommand.deploy(vertx, settings));
  }

  /** As {@link #start(JsonObject)}, with this training verticle (e.g. one given a clock) instead of the default. */
  public static Server start(JsonObject config,
                             java.util.function.Function<ServiceSettings, io.vertx.core.Deployable> training) {
    Main.enableEngineHelpers();
    ServiceSettings settings = ServiceSettings.of(config);
    Vertx vertx = await(ServeCommand.startVertx(settings));
    return await(Server.deploy(vertx, settings, java.util.List.of(training.apply(settings))));
  }

  public static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get(5, TimeUnit.MINUTES);
    } catch (Exception e) {
      throw new AssertionError("future did not complete: " + e, e);
    }
  }

  /** Polls GET {@code path} until the predicate holds on the JSON body (bounded in time). */
  public static JsonObject pollJson(WebClient client, int port, String path, Predicate<JsonObject> done,
                                    long timeoutMs) throws InterruptedException {
    AtomicReference<JsonObject> last = new AtomicReference<>();
    try {
      Awaitility.await().atMost(Duration.ofMillis(timeoutMs)).pollInterval(Duration.ofMillis(200)).until(() -> {
        try {
          last.set(await(client.get(port, "127.0.0.1", path).send()).bodyAsJsonObject());
          return last.get() != null && done.test(last.get());
        } catch (AssertionError | RuntimeException notUpYet) {
          return false;
        }
      });
    } catch (ConditionTimeoutException e) {
      throw new AssertionError("GET " + path + " did not reach the expected state within " + timeoutMs
          + " ms; last answer: " + last.get());
    }
    return last.get();
  }
}
