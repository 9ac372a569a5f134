package cifarserve.loadtest.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ab cross-check's two tools against one loopback server whose latency is known (20 ms a request). */
class AbCrossCheckTest {
  private Vertx vertx;
  private HttpServer server;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    server = vertx.createHttpServer()
        .requestHandler(req -> req.body().onComplete(body -> vertx.setTimer(20, t -> req.response().end("{}"))))
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void abAndTheLoadTesterAgreeOnTheStudyLine(@TempDir Path dir) throws Exception {
    assumeTrue(LoadRuns.onPath("ab"), "Apache ab (apache2-utils) is not installed");
    Path image = Files.write(dir.resolve("image.png"), new byte[3000]);
    LoadRuns load = new LoadRuns(Files.createDirectories(dir.resolve("runs")), image);
    String url = "http://127.0.0.1:" + server.actualPort() + "/v1/classify";

    load.warmUpGenerator(vertx); // a cold generator times its own JIT too: 118 ms means here on this 20 ms server
    LoadRuns.AbRun ab = LoadRuns.ab(url, image);
    JsonObject ours = load.run("study", load.studyLine(url, true, null));

    // every request takes >= 20 ms on the server; neither tool may report less, nor several times it
    assertThat(ab.latencyMeanMs()).isBetween(20.0, 60.0);
    assertThat(ab.timePerRequestMs()).isBetween(20.0, 60.0);
    assertThat(ours.getJsonObject("latencyMs").getDouble("mean")).isBetween(20.0, 60.0);
    assertThat(LoadRuns.timePerRequestMs(ours, 2)).isBetween(20.0, 60.0);
  }

  @Test
  void generatorWarmUpRunsAgainstItsOwnStubAndKeepsItsRun(@TempDir Path dir) throws Exception {
    Path image = Files.write(dir.resolve("image.png"), new byte[3000]);
    Path runs = Files.createDirectories(dir.resolve("runs"));
    new LoadRuns(runs, image).warmUpGenerator(vertx);

    JsonObject warmUp = new JsonObject(Files.readString(runs.resolve("001-generator-warm-up.json")));
    assertThat(warmUp.getJsonObject("latencyMs").getInteger("count")).isGreaterThan(100);
    assertThat(warmUp.getJsonObject("requests").getInteger("failed", 0)).isZero();
  }
}
