package cifarserve;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.io.File;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The real process: SIGTERM during a burst lets every accepted request finish, then exits 0. */
class GracefulShutdownTest {
  @Test
  void sigtermDrainsInFlightRequestsAndExitsZero() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    ProcessBuilder builder = new ProcessBuilder(
        System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
        "-Xmx1g", "-cp", System.getProperty("java.class.path"), "cifarserve.Main", "serve")
        .redirectErrorStream(true)
        .redirectOutput(new File("target/graceful-shutdown-server.log"));
    builder.environment().put("MODEL_DIR", TestModels.directory().toAbsolutePath().toString());
    builder.environment().put("HTTP_PORT", String.valueOf(port));
    builder.environment().put("TRAIN_ON_START", "false");
    Process process = builder.start();
    Vertx vertx = Vertx.vertx();
    try {
      WebClient client = WebClient.create(vertx, new WebClientOptions(), new PoolOptions().setHttp1MaxSize(64));
      TestServers.pollJson(client, port, "/v2/health/ready", body -> body.getBoolean("ready", false), 120_000);

      byte[] cat = TestData.testImages().image(0);
      int burst = 48;
      List<Future<HttpResponse<Buffer>>> answers = new ArrayList<>();
      for (int i = 0; i < burst; i++) {
        answers.add(client.post(port, "127.0.0.1", "/v1/classify")
            .putHeader("Content-Type", "application/octet-stream").sendBuffer(Buffer.buffer(cat)));
      }
      // Let the burst reach the server (connections open, requests sent), then SIGTERM it.
      Thread.sleep(300);
      process.destroy();

      int ok = 0;
      for (Future<HttpResponse<Buffer>> answer : answers) {
        HttpResponse<Buffer> response = TestServers.await(answer);
        assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
        ok++;
      }
      assertThat(ok).isEqualTo(burst);
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("process exits after draining").isTrue();
      assertThat(process.exitValue()).isZero();
    } finally {
      process.destroyForcibly();
      TestServers.await(vertx.close());
    }
  }
}
