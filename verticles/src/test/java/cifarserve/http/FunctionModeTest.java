package cifarserve.http;

import static org.assertj.core.api.Assertions.assertThat;

import cifarserve.TestData;
import cifarserve.TestModels;
import cifarserve.TestServers;
import cifarserve.Server;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The OpenFaaS workload contract, as the function-mode server speaks it. */
class FunctionModeTest {
  @TempDir
  Path tmp;
  Server server;
  WebClient client;
  Path lockFile;

  @BeforeEach
  void start() throws Exception {
    lockFile = tmp.resolve(".lock");
    server = TestServers.start(TestServers.config(TestModels.directory(), new JsonObject()
        .put("mode", "function")
        .put("function", new JsonObject().put("lockFile", lockFile.toString()).put("maxInflight", 1))));
    client = WebClient.create(server.vertx());
    TestServers.pollJson(client, server.port(), "/_/health", body -> body.getBoolean("healthy", false), 60_000);
  }

  @AfterEach
  void stop() {
    TestServers.await(server.vertx().close());
  }

  int status(String path) {
    return TestServers.await(client.get(server.port(), "127.0.0.1", path).send()).statusCode();
  }

  @Test
  void lockFileIsWrittenOnceAModelServes() {
    assertThat(lockFile).exists();
    assertThat(status("/_/health")).isEqualTo(200);
    assertThat(status("/_/ready")).isEqualTo(200);
  }

  @Test
  void readyAnswers429WhileMaxInflightRequestsAreInFlight() {
    HttpClient http = server.vertx().createHttpClient();
    byte[] cat = TestData.testImages().image(0);
    // Send the headers and half the body: the request is admitted and stays in flight until we finish it.
    HttpClientRequest held = TestServers.await(http.request(new RequestOptions().setMethod(HttpMethod.POST)
        .setHost("127.0.0.1").setPort(server.port()).setURI("/v1/classify")
        .putHeader("Content-Type", "application/octet-stream").putHeader("Content-Length", String.valueOf(cat.length))));
    TestServers.await(held.write(Buffer.buffer(cat).slice(0, 1000)));
    long deadline = System.currentTimeMillis() + 10_000;
    while (status("/_/ready") != 429 && System.currentTimeMillis() < deadline) {
      Thread.onSpinWait();
    }
    assertThat(status("/_/ready")).isEqualTo(429);
    var refused = TestServers.await(client.post(server.port(), "127.0.0.1", "/v1/classify")
        .putHeader("Content-Type", "application/octet-stream").sendBuffer(Buffer.buffer(cat)));
    assertThat(refused.statusCode()).isEqualTo(429);
    assertThat(refused.bodyAsJsonObject().getString("error")).contains("max_inflight");

    HttpClientResponse finished = TestServers.await(held.end(Buffer.buffer(cat).slice(1000, cat.length))
        .compose(v -> held.response()));
    assertThat(finished.statusCode()).isEqualTo(200);
    assertThat(status("/_/ready")).isEqualTo(200);
  }

  @Test
  void drainingRemovesTheLockAndFailsHealth() throws Exception {
    TestServers.await(server.vertx().eventBus().request(HttpVerticle.DRAINING, null));
    assertThat(Files.exists(lockFile)).isFalse();
    assertThat(status("/_/health")).isEqualTo(503);
    assertThat(status("/v2/health/ready")).isEqualTo(503);
  }
}
