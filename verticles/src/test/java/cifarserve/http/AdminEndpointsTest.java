package cifarserve.http;

import static org.assertj.core.api.Assertions.assertThat;

import cifarserve.TestServers;
import cifarserve.Server;
import cifarserve.model.ModelRepository;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin surface as an attacker meets it: no token, wrong token, hostile options, cancel, gate. */
class AdminEndpointsTest {
  @TempDir
  Path modelDir;

  private static HttpResponse<Buffer> post(WebClient client, int port, String path, String token, String body) {
    var request = client.post(port, "127.0.0.1", path).putHeader("Content-Type", "application/json");
    if (token != null) {
      request.putHeader("Authorization", token);
    }
    return TestServers.await(request.sendBuffer(Buffer.buffer(body)));
  }

  @Test
  void withoutAConfiguredTokenAdminEndpointsDoNotExist() {
    JsonObject config = TestServers.config(modelDir, new JsonObject());
    config.put("admin", new JsonObject());
    Server server = TestServers.start(config);
    WebClient client = WebClient.create(server.vertx());
    try {
      for (String path : List.of("/train", "/train/cancel")) {
        HttpResponse<Buffer> response = post(client, server.port(), path, "Bearer " + TestServers.ADMIN_TOKEN, "{}");
        assertThat(response.statusCode()).as(path).isEqualTo(404);
      }
    } finally {
      TestServers.await(server.vertx().close());
    }
  }

  @Test
  void functionModeNeverHasAdminEndpoints() {
    JsonObject config = TestServers.config(modelDir, new JsonObject()).put("mode", "function");
    assertThat(AdminAuth.from(config).enabled()).isFalse();
    assertThat(AdminAuth.from(config.put("mode", "server")).enabled()).isTrue();
  }

  @Test
  void missingOrWrongTokenIs401AndHostileOptionsAre400NamingTheField() {
    Server server = TestServers.start(TestServers.config(modelDir, new JsonObject()));
    WebClient client = WebClient.create(server.vertx());
    int port = server.port();
    String token = "Bearer " + TestServers.ADMIN_TOKEN;
    try {
      for (String wrong : new String[] {null, "Bearer nope", token + "x", TestServers.ADMIN_TOKEN, "Basic " + TestServers.ADMIN_TOKEN}) {
        HttpResponse<Buffer> response = post(client, port, "/train", wrong, "{\"epochs\":1}");
        assertThat(response.statusCode()).as(String.valueOf(wrong)).isEqualTo(401);
        assertThat(post(client, port, "/train/cancel", wrong, "").statusCode()).isEqualTo(401);
      }
      String[][] hostile = {
          {"{\"epochs\":\"5\"}", "epochs"}, {"{\"epochs\":1e10}", "epochs"}, {"{\"epochs\":201}", "epochs"},
          {"{\"epochs\":0}", "epochs"}, {"{\"batchSize\":50000}", "batchSize"}, {"{\"trainLimit\":-1}", "trainLimit"},
          {"{\"trainLimit\":50001}", "trainLimit"}, {"{\"testLimit\":10001}", "testLimit"},
          {"{\"learningRate\":2}", "learningRate"}, {"{\"learningRate\":\"0.1\"}", "learningRate"},
          {"{\"schedule\":\"steep\"}", "schedule"}, {"{\"warmupEpochs\":5}", "warmupEpochs"},
          {"{\"baseLearningRate\":-0.1}", "baseLearningRate"}, {"{\"baseLearningRate\":0.5}", "baseLearningRate"},
          {"{\"cropPadding\":9}", "cropPadding"}, {"{\"horizontalFlip\":\"yes\"}", "horizontalFlip"},
          {"{\"modelDir\":\"/tmp\"}", "modelDir"}};
      for (String[] attack : hostile) {
        HttpResponse<Buffer> response = post(client, port, "/train", token, attack[0]);
        assertThat(response.statusCode()).as(attack[0]).isEqualTo(400);
        assertThat(response.bodyAsJsonObject().getString("field")).as(attack[0]).isEqualTo(attack[1]);
      }
      assertThat(TestServers.await(client.get(port, "127.0.0.1", "/train/status").send()).bodyAsJsonObject()
          .getString("state")).isEqualTo("idle");
    } finally {
      TestServers.await(server.vertx().close());
    }
  }

  @Test
  void aRunningTrainingIsCancelled() throws Exception {
    Server server = TestServers.start(TestServers.config(modelDir, new JsonObject()));
    WebClient client = WebClient.create(server.vertx());
    int port = server.port();
    String token = "Bearer " + TestServers.ADMIN_TOKEN;
    try {
      assertThat(post(client, port, "/train", token, "{\"epochs\":20,\"trainLimit\":50000,\"testLimit\":100}").statusCode())
          .isEqualTo(202);
      TestServers.pollJson(client, port, "/train/status", body -> "training".equals(body.getString("state")), 120_000);
      JsonObject cancel = post(client, port, "/train/cancel", token, "").bodyAsJsonObject();
      assertThat(cancel.getBoolean("cancelled")).isTrue();
      JsonObject status = TestServers.pollJson(client, port, "/train/status",
          body -> "failed".equals(body.getString("state")), 30_000);
      assertThat(status.getString("message")).isEqualTo("training cancelled");
      assertThat(TestServers.await(client.get(port, "127.0.0.1", "/").send()).statusCode()).isEqualTo(503);
    } finally {
      TestServers.await(server.vertx().close());
    }
  }

  @Test
  void aOneImageModelIsTrainedButNotAnnounced() throws Exception {
    Server server = TestServers.start(TestServers.config(modelDir, new JsonObject()
        .put("accuracyGate", new JsonObject().put("enabled", true).put("minAccuracy", 0.30).put("tolerance", 0.02))));
    WebClient client = WebClient.create(server.vertx());
    int port = server.port();
    try {
      assertThat(post(client, port, "/train", "Bearer " + TestServers.ADMIN_TOKEN,
          "{\"epochs\":1,\"trainLimit\":1,\"testLimit\":1,\"warmupEpochs\":0}").statusCode()).isEqualTo(202);
      JsonObject status = TestServers.pollJson(client, port, "/train/status",
          body -> "rejected".equals(body.getString("state")) || "failed".equals(body.getString("state")), 300_000);
      assertThat(status.getString("state")).as(status.encode()).isEqualTo("rejected");
      String version = status.getJsonObject("lastModel").getString("version");
      assertThat(status.getJsonObject("lastModel").getString("rejected")).contains("below the floor");
      // Kept on disk for inspection, never served, and skipped by "load the newest artifact".
      assertThat(Files.exists(modelDir.resolve(version + ".zip"))).isTrue();
      assertThat(new ModelRepository(modelDir).newest()).isEmpty();
      assertThat(TestServers.await(client.get(port, "127.0.0.1", "/").send()).statusCode()).isEqualTo(503);
    } finally {
      TestServers.await(server.vertx().close());
    }
  }
}
