package cifarserve.http;

import static org.assertj.core.api.Assertions.assertThat;

import cifarserve.Server;
import cifarserve.TestServers;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code http.metricsPort}: what a monitoring network let in to that port (EC2's MonitoringCidr) can
 * reach. Only GET /metrics; not the API, not the admin endpoints; and /metrics leaves the API port.
 */
class MetricsListenerTest {
  @TempDir
  Path modelDir;

  @Test
  void theMetricsPortAnswersMetricsAndNothingElse() throws Exception {
    int metricsPort = TestServers.freePort();
    JsonObject config = TestServers.config(modelDir, new JsonObject()
        .put("http", new JsonObject().put("metricsPort", metricsPort)));
    Server server = TestServers.start(config);
    WebClient client = WebClient.create(server.vertx());
    try {
      HttpResponse<Buffer> metrics = send(client, HttpMethod.GET, metricsPort, "/metrics", null);
      assertThat(metrics.statusCode()).isEqualTo(200);
      assertThat(metrics.bodyAsString()).contains("jvm_memory_used_bytes");

      // The API and the admin surface are not behind this port, whatever the method or token.
      String token = "Bearer " + TestServers.ADMIN_TOKEN;
      assertThat(send(client, HttpMethod.POST, metricsPort, "/train", token).statusCode()).isEqualTo(404);
      assertThat(send(client, HttpMethod.POST, metricsPort, "/train/cancel", token).statusCode()).isEqualTo(404);
      assertThat(send(client, HttpMethod.GET, metricsPort, "/train/status", null).statusCode()).isEqualTo(404);
      assertThat(send(client, HttpMethod.POST, metricsPort, "/v1/classify", null).statusCode()).isEqualTo(404);
      assertThat(send(client, HttpMethod.GET, metricsPort, "/v2/health/ready", null).statusCode()).isEqualTo(404);
      HttpResponse<Buffer> other = send(client, HttpMethod.GET, metricsPort, "/", null);
      assertThat(other.statusCode()).isEqualTo(404);
      assertThat(other.bodyAsJsonObject().getString("error")).isNotBlank();

      // ... and the API port no longer serves /metrics (the ALB blocks it too).
      assertThat(send(client, HttpMethod.GET, server.port(), "/metrics", null).statusCode()).isEqualTo(404);
      assertThat(send(client, HttpMethod.GET, server.port(), "/v2/health/live", null).statusCode()).isEqualTo(200);
    } finally {
      TestServers.await(server.vertx().close());
    }
  }

  private static HttpResponse<Buffer> send(WebClient client, HttpMethod method, int port, String path, String token) {
    var request = client.request(method, port, "127.0.0.1", path);
    if (token != null) {
      request.putHeader("Authorization", token);
    }
    return TestServers.await(request.sendBuffer(Buffer.buffer("{}")));
  }
}
