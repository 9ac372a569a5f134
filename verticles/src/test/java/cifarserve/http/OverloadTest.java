package cifarserve.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import cifarserve.TestData;
import cifarserve.TestModels;
import cifarserve.TestServers;
import cifarserve.Server;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A burst far beyond small bounds ({@code http.maxInflight}, decode backlog, inference queue): every
 * request gets an answer (none lost), each is 200 or 429/503 with {@code Retry-After}, every 200 is the
 * answer the same image gets alone (a batch under pressure must not mix images up), and the service
 * then serves normally again. Bounded: a fixed number of requests, each with a timeout.
 */
class OverloadTest {
  /** Above the decode (1 + 2) and queue (4 images) bounds, so each of the three limits is reached. */
  static final int MAX_INFLIGHT = 24;
  static final int QUEUE_CAPACITY = 4;
  static final int IMAGES = 16;
  static final int BURST = 400;
  static final int CONNECTIONS = 64;
  static Server server;
  static WebClient client;
  static int port;
  static final List<Buffer> raw = new ArrayList<>();
  static final List<Buffer> png = new ArrayList<>();
  /** What each image gets when sent alone, without pressure. */
  static final List<JsonObject> alone = new ArrayList<>();

  @BeforeAll
  static void startServer() throws Exception {
    server = TestServers.start(TestServers.config(TestModels.directory(), new JsonObject()
        .put("http", new JsonObject().put("maxInflight", MAX_INFLIGHT).put("decodeThreads", 1).put("decodeBacklog", 2))
        .put("inference", new JsonObject().put("queueCapacity", QUEUE_CAPACITY).put("maxBatchSize", 2))));
    port = server.port();
    client = WebClient.create(server.vertx(), new WebClientOptions(), new PoolOptions().setHttp1MaxSize(CONNECTIONS));
    TestServers.pollJson(client, port, "/v2/health/ready", body -> body.getBoolean("ready", false), 60_000);
    for (int i = 0; i < IMAGES; i++) {
      byte[] pixels = TestData.testImages().image(i);
      raw.add(Buffer.buffer(pixels));
      png.add(Buffer.buffer(HostileCorpus.encode(ImageDecoder.fromChw(pixels), "png")));
      HttpResponse<Buffer> answer = TestServers.await(send(i, false));
      assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(200);
      alone.add(answer.bodyAsJsonObject());
    }
  }

  @AfterAll
  static void stopServer() {
    TestServers.await(server.vertx().close());
  }

  static Future<HttpResponse<Buffer>> send(int image, boolean asPng) {
    return client.post(port, "127.0.0.1", "/v1/classify").timeout(30_000)
        .putHeader("Content-Type", asPng ? "image/png" : "application/octet-stream")
        .sendBuffer(asPng ? png.get(image) : raw.get(image));
  }

  @Test
  void burstGetsOnly200Or429Or503AndEveryAcceptedAnswerIsRight() {
    List<Future<HttpResponse<Buffer>>> answers = new ArrayList<>();
    for (int i = 0; i < BURST; i++) {
      answers.add(send(i % IMAGES, i % 3 == 0));
    }
    // join waits for every one, failed or not; each has its own 30 s timeout.
    TestServers.await(Future.join(answers).otherwiseEmpty());
    int accepted = 0;
    int tooMany = 0;
    int unavailable = 0;
    for (int i = 0; i < BURST; i++) {
      Future<HttpResponse<Buffer>> answer = answers.get(i);
      assertThat(answer.succeeded()).as("request %d got an answer (%s)", i, answer.cause()).isTrue();
      HttpResponse<Buffer> response = answer.result();
      switch (response.statusCode()) {
        case 200 -> {
          accepted++;
          assertSameAnswer(response.bodyAsJsonObject(), alone.get(i % IMAGES), i);
        }
        case 429, 503 -> {
          if (response.statusCode() == 429) {
            tooMany++;
          } else {
            unavailable++;
          }
          assertThat(response.getHeader("Retry-After")).as(response.bodyAsString()).isEqualTo("1");
          assertThat(response.bodyAsJsonObject().getString("error")).isNotBlank();
        }
        default -> throw new AssertionError("request " + i + ": HTTP " + response.statusCode() + " "
            + response.bodyAsString());
      }
    }
    System.out.printf("overload burst: offered %d, accepted %d, rejected %d (429: %d, 503: %d), lost 0%n",
        BURST, accepted, tooMany + unavailable, tooMany, unavailable);
    assertThat(accepted).as("some requests accepted").isPositive();
    assertThat(tooMany).as("429s: the burst went beyond http.maxInflight").isPositive();
    assertThat(unavailable).as("503s: admitted requests went beyond the decode backlog or the queue").isPositive();

    // Recovery: the in-flight count is back under its bound, and every image is answered as before.
    await().atMost(Duration.ofSeconds(10)).until(() -> TestServers.await(client.get(port, "127.0.0.1", "/_/ready")
        .send()).statusCode() == 200);
    for (int i = 0; i < IMAGES; i++) {
      HttpResponse<Buffer> response = TestServers.await(send(i, i % 2 == 0));
      assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
      assertSameAnswer(response.bodyAsJsonObject(), alone.get(i), i);
    }
  }

  static void assertSameAnswer(JsonObject served, JsonObject expected, int request) {
    assertThat(served.getString("label")).as("label of request %d", request).isEqualTo(expected.getString("label"));
    JsonObject p = served.getJsonObject("probabilities");
    JsonObject q = expected.getJsonObject("probabilities");
    for (String name : q.fieldNames()) {
      assertThat(p.getDouble(name)).as("p(%s) of request %d", name, request).isCloseTo(q.getDouble(name), within(1e-4));
    }
  }
}
