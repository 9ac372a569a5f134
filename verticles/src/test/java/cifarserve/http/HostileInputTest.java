package cifarserve.http;

import static org.assertj.core.api.Assertions.assertThat;

import cifarserve.TestData;
import cifarserve.TestModels;
import cifarserve.TestServers;
import cifarserve.Server;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bad-input corpus ({@link HostileCorpus}) against the real service on 127.0.0.1: every case gets
 * its 4xx JSON error (status, {@code error}, request id) within a bound, never a 500 or a hang, and
 * after each one the service still classifies real CIFAR-10 images correctly. Slow-client cases
 * (a trickled body, unfinished headers, a body cut short) are the plain tests below.
 */
class HostileInputTest {
  static final long BODY_LIMIT = 1 << 20;
  static final long IMAGE_PIXEL_LIMIT = 4_000_000;
  static final int QUEUE_CAPACITY = 64;
  static final long BODY_READ_TIMEOUT_MS = 1_000;
  static final long IDLE_TIMEOUT_MS = 2_000;
  /** Any answer slower than this is a hang: the slowest case (a 1 MB body refused) takes milliseconds. */
  static final int ANSWER_BOUND_MS = 10_000;
  static Server server;
  static int port;
  /** Test images this model classifies correctly (found once): what "still healthy" is checked with. */
  static List<Integer> knownGood = new ArrayList<>();
  static int healthChecks;

  @BeforeAll
  static void startServer() throws Exception {
    server = TestServers.start(TestServers.config(TestModels.directory(), new JsonObject()
        .put("http", new JsonObject().put("maxBodyBytes", BODY_LIMIT).put("maxImagePixels", IMAGE_PIXEL_LIMIT)
            .put("bodyReadTimeoutMs", BODY_READ_TIMEOUT_MS).put("idleTimeoutMs", IDLE_TIMEOUT_MS))
        .put("inference", new JsonObject().put("queueCapacity", QUEUE_CAPACITY))));
    port = server.port();
    TestServers.pollJson(io.vertx.ext.web.client.WebClient.create(server.vertx()), port, "/v2/health/ready",
        body -> body.getBoolean("ready", false), 60_000);
    for (int i = 0; knownGood.size() < 8 && i < 200; i++) {
      if (classify(i).getInteger("index") == TestData.testImages().label(i)) {
        knownGood.add(i);
      }
    }
    assertThat(knownGood).as("test images the model gets right").hasSize(8);
  }

  @AfterAll
  static void stopServer() {
    TestServers.await(server.vertx().close());
  }

  /** The corpus as kept in files under test resources: what is replayed. */
  static List<HostileCorpus.Case> corpus() throws IOException {
    return HostileCorpus.fromResources();
  }

  static List<HostileCorpus.Case> generated() {
    return new HostileCorpus(TestData.testImages().image(0), BODY_LIMIT, QUEUE_CAPACITY).all();
  }

  /**
   * Every case the generator builds is kept, byte for byte, in the files (which may hold more, added by
   * hand). {@code -Dhostile.corpus.write=true} rewrites them from the generator instead.
   */
  @Test
  void theKeptCorpusFilesHoldEveryGeneratedCase() throws IOException {
    if (Boolean.getBoolean("hostile.corpus.write")) {
      HostileCorpus.write(generated(), Path.of(HostileCorpus.SOURCE_DIR));
      return;
    }
    Map<String, HostileCorpus.Case> kept = new HashMap<>();
    HostileCorpus.fromResources().forEach(c -> kept.put(c.name(), c));
    assertThat(kept).hasSizeGreaterThanOrEqualTo(60);
    for (HostileCorpus.Case made : generated()) {
      HostileCorpus.Case file = kept.get(made.name());
      assertThat(file).as("kept file for '%s' (rewrite with -Dhostile.corpus.write=true)", made.name()).isNotNull();
      assertThat(file.request()).as(made.name()).isEqualTo(made.request());
      assertThat(file.status()).as(made.name()).isEqualTo(made.status());
      assertThat(file.fragment()).as(made.name()).isEqualTo(made.fragment());
    }
  }

  static JsonObject classify(int image) throws Exception {
    RawHttp.Response response = RawHttp.exchange(port, RawHttp.request("POST", HostileCorpus.CLASSIFY,
        HostileCorpus.OCTETS, TestData.testImages().image(image)), ANSWER_BOUND_MS);
    assertThat(response.status()).as(response.toString()).isEqualTo(200);
    return response.json();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("corpus")
  void refusedWithItsJsonError(HostileCorpus.Case hostile) throws Exception {
    RawHttp.Response response = RawHttp.exchange(port, hostile.request(), ANSWER_BOUND_MS);
    String context = hostile.name() + ": " + response;
    assertThat(response.status()).as(context).isEqualTo(hostile.status());
    assertThat(response.header("Content-Type")).as(context).startsWith("application/json");
    JsonObject body = response.json();
    assertThat(body).as(context).isNotNull();
    assertThat(body.getString("error")).as(context).isNotBlank();
    if (hostile.fragment() != null) {
      assertThat(body.getString("error")).as(context).containsIgnoringCase(hostile.fragment());
    }
    assertThat(body.getString("requestId")).isEqualTo(response.header("X-Request-Id"));
  }

  /** After every case, bad or slow: the service answers a real image, and answers it right. */
  @AfterEach
  void stillClassifiesCorrectly() throws Exception {
    int image = knownGood.get(healthChecks++ % knownGood.size());
    assertThat(classify(image).getInteger("index")).isEqualTo(TestData.testImages().label(image));
  }

  @Test
  void trickledBodyGets408AndItsConnectionClosed() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(ANSWER_BOUND_MS);
      OutputStream out = socket.getOutputStream();
      out.write(head(3072));
      long start = System.nanoTime();
      // A byte at a time, each well inside the idle timeout: only the body deadline can end it.
      for (int i = 0; i < 3; i++) {
        out.write(0);
        out.flush();
        Thread.sleep(BODY_READ_TIMEOUT_MS / 3);
      }
      RawHttp.Response response = RawHttp.parse(RawHttp.readUntilClosed(socket.getInputStream(), start, ANSWER_BOUND_MS),
          0);
      assertThat(response.status()).as(response.toString()).isEqualTo(408);
      assertThat(response.json().getString("error")).contains("not received within");
      assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(BODY_READ_TIMEOUT_MS * 3);
    }
  }

  @Test
  void bodyCutShortThenSilenceGets408() throws Exception {
    RawHttp.Response response = sendIncomplete(RawHttp.concat(head(3072), new byte[1000]), false);
    assertThat(response.status()).as(response.toString()).isEqualTo(408);
  }

  @Test
  void unfinishedHeadersAreClosedAtTheIdleTimeout() throws Exception {
    RawHttp.Response response = sendIncomplete("POST /v1/classify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Ty"
        .getBytes(StandardCharsets.US_ASCII), false);
    // No request yet, so no answer is owed: the connection is closed, not held.
    assertThat(response.status()).isZero();
    assertThat(response.body()).isEmpty();
    assertThat(response.millis()).isBetween(IDLE_TIMEOUT_MS / 2, IDLE_TIMEOUT_MS * 3);
  }

  @Test
  void halfClosedBodyIsNotAServerFault() throws Exception {
    RawHttp.Response response = sendIncomplete(RawHttp.concat(head(3072), new byte[100]), true);
    // Either the server gives up on the body (408) or sees the close and drops the request: never a 5xx.
    assertThat(response.status()).as(response.toString()).isIn(0, 400, 408);
  }

  /** Sends an incomplete request (then half-closes if asked) and reads until the server closes the connection. */
  private static RawHttp.Response sendIncomplete(byte[] partial, boolean halfClose) throws Exception {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(ANSWER_BOUND_MS);
      long start = System.nanoTime();
      socket.getOutputStream().write(partial);
      socket.getOutputStream().flush();
      if (halfClose) {
        socket.shutdownOutput();
      }
      byte[] answer = RawHttp.readUntilClosed(socket.getInputStream(), start, ANSWER_BOUND_MS);
      return RawHttp.parse(answer, (System.nanoTime() - start) / 1_000_000);
    }
  }

  @Test
  void garbageInsteadOfHttpIsRefusedWithoutA5xx() throws Exception {
    RawHttp.Response response = RawHttp.exchange(port,
        "\u0016\u0003\u0001 this is not HTTP\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), ANSWER_BOUND_MS);
    assertThat(response.status()).as(response.toString()).isIn(0, 400);
    RawHttp.Response longLine = RawHttp.exchange(port, RawHttp.request("GET", "/" + "a".repeat(20_000), null, null),
        ANSWER_BOUND_MS);
    assertThat(longLine.status()).as(longLine.toString()).isIn(0, 400, 414);
    RawHttp.Response bigHeader = RawHttp.exchange(port, RawHttp.request("GET", "/", null, null,
        "X-Padding: " + "b".repeat(20_000)), ANSWER_BOUND_MS);
    assertThat(bigHeader.status()).as(bigHeader.toString()).isIn(0, 400, 431);
  }

  private static byte[] head(int contentLength) {
    return ("POST /v1/classify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
        + "Content-Length: " + contentLength + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
  }
}
