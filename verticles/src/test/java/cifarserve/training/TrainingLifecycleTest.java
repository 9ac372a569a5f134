package cifarserve.training;

import static org.assertj.core.api.Assertions.assertThat;

import cifarserve.TestModels;
import cifarserve.TestServers;
import cifarserve.Server;
import cifarserve.model.ModelVersion;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The training verticle driven over HTTP: train on start, 503 meanwhile, retrain, failures. */
class TrainingLifecycleTest {
  @TempDir
  Path modelDir;

  static final JsonObject TINY = new JsonObject().put("epochs", 1).put("trainLimit", 320).put("testLimit", 200);

  @Test
  void trainsOnStartAnswers503MeanwhileThenServesAndRetrains() throws Exception {
    Server server = TestServers.start(TestServers.config(modelDir, new JsonObject()
        .put("trainOnStart", true).put("training", TINY)));
    WebClient client = WebClient.create(server.vertx());
    int port = server.port();
    try {
      // While the first model trains: the study endpoint and inference say "not ready" with 503.
      HttpResponse<Buffer> study = TestServers.await(client.get(port, "127.0.0.1", "/").send());
      assertThat(study.statusCode()).isEqualTo(503);
      assertThat(study.bodyAsJsonObject().getString("status")).isEqualTo("no-model");
      HttpResponse<Buffer> classify = TestServers.await(client.post(port, "127.0.0.1", "/v1/classify")
          .putHeader("Content-Type", "application/octet-stream").sendBuffer(Buffer.buffer(new byte[3072])));
      assertThat(classify.statusCode()).isEqualTo(503);
      assertThat(classify.getHeader("Retry-After")).isEqualTo("1");
      assertThat(TestServers.await(client.get(port, "127.0.0.1", "/v2/health/ready").send()).statusCode()).isEqualTo(503);
      assertThat(TestServers.await(client.get(port, "127.0.0.1", "/v2/health/live").send()).statusCode()).isEqualTo(200);
      JsonObject status = TestServers.await(client.get(port, "127.0.0.1", "/train/status").send()).bodyAsJsonObject();
      assertThat(status.getString("state")).isIn("loading-data", "training", "evaluating", "saving", "done");

      JsonObject first = TestServers.pollJson(client, port, "/", body -> "ready".equals(body.getString("status")), 300_000);
      String firstVersion = first.getString("version");
      assertThat(Files.exists(modelDir.resolve(firstVersion + ".zip"))).isTrue();
      assertThat(first.getInteger("trainImages")).isEqualTo(320);

      // Retrain over HTTP: accepted once (202), refused while running (409), then swapped in.
      HttpResponse<Buffer> started = TestServers.await(TestServers.admin(client.post(port, "127.0.0.1", "/train"))
          .sendJsonObject(TINY.copy().put("trainLimit", 256)));
      assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
      HttpResponse<Buffer> again = TestServers.await(TestServers.admin(client.post(port, "127.0.0.1", "/train")).sendJsonObject(TINY));
      assertThat(again.statusCode()).isEqualTo(409);
      assertThat(again.bodyAsJsonObject().getString("error")).contains("already");
      JsonObject second = TestServers.pollJson(client, port, "/",
          body -> body.getString("version", "").compareTo(firstVersion) > 0, 300_000);
      assertThat(second.getInteger("trainImages")).isEqualTo(256);
      JsonObject done = TestServers.await(client.get(port, "127.0.0.1", "/train/status").send()).bodyAsJsonObject();
      assertThat(done.getString("state")).isEqualTo("done");
      assertThat(done.getJsonObject("lastModel").getString("version")).isEqualTo(second.getString("version"));
    } finally {
      TestServers.await(server.vertx().close());
    }
  }

  @Test
  void aNodeWhoseClockIsBehindIssuesAVersionAfterTheCurrentModel() throws Exception {
    for (Path file : Files.list(TestModels.directory()).toList()) {
      Files.copy(file, modelDir.resolve(file.getFileName()));
    }
    // A clock years behind the model this node serves: a version from the clock alone would sort before
    // it and never become current.
    Clock behind = Clock.fixed(Instant.parse("2020-01-01T00:00:00Z"), ZoneOffset.UTC);
    Server server = TestServers.start(TestServers.config(modelDir, new JsonObject()), settings -> new TrainingVerticle(settings, behind));
    WebClient client = WebClient.create(server.vertx());
    int port = server.port();
    try {
      String before = TestServers.pollJson(client, port, "/", body -> "ready".equals(body.getString("status")), 60_000)
          .getString("version");
      assertThat(ModelVersion.next(behind.instant()).isNewerThan(ModelVersion.parse(before))).isFalse();
      HttpResponse<Buffer> started = TestServers.await(TestServers.admin(client.post(port, "127.0.0.1", "/train")).sendJsonObject(TINY));
      assertThat(started.statusCode()).as(started.bodyAsString()).isEqualTo(202);
      JsonObject after = TestServers.pollJson(client, port, "/",
          body -> !before.equals(body.getString("version")), 300_000);
      ModelVersion issued = ModelVersion.parse(after.getString("version"));
      assertThat(issued.isNewerThan(ModelVersion.parse(before))).isTrue();
      assertThat(issued.issuedAt()).isEqualTo(ModelVersion.parse(before).issuedAt().plusSeconds(1));
    } finally {
      TestServers.await(server.vertx().close());
    }
  }

  @Test
  void failedTrainingKeepsThePreviousModelServing() throws Exception {
    for (Path file : Files.list(TestModels.directory()).toList()) {
      Files.copy(file, modelDir.resolve(file.getFileName()));
    }
    Path emptyCifarDir = Files.createDirectories(modelDir.resolve("no-data-here"));
    Server server = TestServers.start(TestServers.config(modelDir, new JsonObject()
        .put("cifarDir", emptyCifarDir.toString())));
    WebClient client = WebClient.create(server.vertx());
    int port = server.port();
    try {
      JsonObject before = TestServers.pollJson(client, port, "/", body -> "ready".equals(body.getString("status")), 60_000);
      HttpResponse<Buffer> started = TestServers.await(TestServers.admin(client.post(port, "127.0.0.1", "/train")).sendJsonObject(TINY));
      assertThat(started.statusCode()).isEqualTo(202);
      JsonObject failed = TestServers.pollJson(client, port, "/train/status",
          body -> "failed".equals(body.getString("state")), 60_000);
      // The status is public: a generic message, never the exception text or a server path.
      assertThat(failed.getString("message")).isEqualTo("training failed; details are in the node's log");
      assertThat(failed.encode()).doesNotContain(emptyCifarDir.toString()).doesNotContain("missing");
      JsonObject after = TestServers.await(client.get(port, "127.0.0.1", "/").send()).bodyAsJsonObject();
      assertThat(after.getString("version")).isEqualTo(before.getString("version"));
    } finally {
      TestServers.await(server.vertx().close());
    }
  }
}
