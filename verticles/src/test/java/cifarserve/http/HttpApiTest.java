package cifarserve.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import cifarserve.TestData;
import cifarserve.TestModels;
import cifarserve.TestServers;
import cifarserve.Server;
import cifarserve.data.CifarClasses;
import cifarserve.data.CifarImages;
import cifarserve.inference.Predictions;
import cifarserve.model.OnnxModel;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every endpoint of the HTTP API, over real HTTP on 127.0.0.1, against a model trained on CIFAR-10.
 * Bad input is {@link HostileInputTest}'s corpus; this class is what good input gets.
 */
@ExtendWith(VertxExtension.class)
class HttpApiTest {
  static final long BODY_LIMIT = 1 << 20;
  static final long IMAGE_PIXEL_LIMIT = 4_000_000;
  /** Long: the in-flight test holds requests whose bodies never come (slow bodies: HostileInputTest). */
  static final long BODY_READ_TIMEOUT_MS = 60_000;
  static final int MAX_INFLIGHT = 16;
  static Server server;
  static WebClient client;
  static int port;
  static OnnxModel inProcess;
  static JsonObject metadata;

  @BeforeAll
  static void startServer() throws Exception {
    metadata = TestModels.metadata();
    inProcess = TestModels.repository().loadOnnx(metadata, 1, 1);
    server = TestServers.start(TestServers.config(TestModels.directory(), new JsonObject()
        .put("http", new JsonObject().put("maxBodyBytes", BODY_LIMIT).put("maxImagePixels", IMAGE_PIXEL_LIMIT)
            .put("bodyReadTimeoutMs", BODY_READ_TIMEOUT_MS).put("maxInflight", MAX_INFLIGHT))));
    port = server.port();
    client = WebClient.create(server.vertx());
    TestServers.pollJson(client, port, "/v2/health/ready", body -> body.getBoolean("ready", false), 60_000);
  }

  @AfterAll
  static void stopServer() {
    TestServers.await(server.vertx().close());
    inProcess.close();
  }

  static byte[] record(int index) {
    return TestData.testImages().image(index);
  }

  static byte[] encode(BufferedImage image, String format) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThat(ImageIO.write(image, format, out)).isTrue();
    return out.toByteArray();
  }

  static float[] probabilities(JsonObject answer) {
    JsonObject p = answer.getJsonObject("probabilities");
    float[] out = new float[CifarClasses.COUNT];
    for (int i = 0; i < out.length; i++) {
      out[i] = p.getFloat(CifarClasses.name(i));
    }
    return out;
  }

  static HttpResponse<Buffer> post(String path, String contentType, Buffer body) {
    var request = client.post(port, "127.0.0.1", path);
    if (contentType != null) {
      request.putHeader("Content-Type", contentType);
    }
    return TestServers.await(request.sendBuffer(body));
  }

  static void assertJsonError(HttpResponse<Buffer> response, int status, String fragment) {
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(status);
    assertThat(response.getHeader("Content-Type")).startsWith("application/json");
    assertThat(response.bodyAsJsonObject().getString("error")).containsIgnoringCase(fragment);
    // Every error carries the request's id, the same as the header, so a client can quote it.
    assertThat(response.bodyAsJsonObject().getString("requestId")).matches("[0-9a-f]{16}")
        .isEqualTo(response.getHeader("X-Request-Id"));
  }

  @Test
  void studyEndpointReportsTheModelsTestAccuracy(VertxTestContext ctx) {
    client.get(port, "127.0.0.1", "/").send().onComplete(ctx.succeeding(response -> ctx.verify(() -> {
      assertThat(response.statusCode()).isEqualTo(200);
      JsonObject body = response.bodyAsJsonObject();
      assertThat(body.getString("version")).isEqualTo(metadata.getString("version"));
      assertThat(body.getDouble("accuracy")).isEqualTo(metadata.getDouble("accuracy"));
      assertThat(body.getInteger("epochs")).isEqualTo(TestModels.EPOCHS);
      assertThat(body.getString("trainedAt")).isNotBlank();
      ctx.completeNow();
    })));
  }

  @Test
  void rawRecordIsClassifiedExactlyAsInProcess() {
    byte[] cat = record(0);
    HttpResponse<Buffer> response = post("/v1/classify", "application/octet-stream", Buffer.buffer(cat));
    assertThat(response.statusCode()).isEqualTo(200);
    JsonObject answer = response.bodyAsJsonObject();
    float[] expected = inProcess.predictBytes(cat, 0, 1)[0];
    float[] served = probabilities(answer);
    for (int i = 0; i < expected.length; i++) {
      assertThat(served[i]).isCloseTo(expected[i], within(1e-5f));
    }
    double sum = 0;
    for (float p : served) {
      sum += p;
    }
    assertThat(sum).isCloseTo(1.0, within(1e-4));
    assertThat(answer.getInteger("index")).isEqualTo(Predictions.argMax(expected));
    assertThat(answer.getString("label")).isEqualTo(CifarClasses.name(answer.getInteger("index")));
    assertThat(answer.getString("modelVersion")).isEqualTo(metadata.getString("version"));
  }

  /** Other forms of test image 1 that must get exactly the answer its raw record gets. */
  static Stream<Arguments> otherFormsOfTheSameImage() throws Exception {
    byte[] pixels = record(1);
    byte[] withLabel = new byte[CifarImages.RECORD_BYTES];
    withLabel[0] = (byte) TestData.testImages().label(1);
    System.arraycopy(pixels, 0, withLabel, 1, CifarImages.PIXELS_PER_IMAGE);
    byte[] png = encode(ImageDecoder.fromChw(pixels), "png");
    String raw = "application/octet-stream";
    return Stream.of(
        Arguments.of("POST / (how OpenFaaS invokes a function)", "/", raw, pixels),
        Arguments.of("a whole record, its label byte first", "/v1/classify", raw, withLabel),
        Arguments.of("a PNG of it", "/v1/classify", "image/png", png),
        Arguments.of("that PNG without a Content-Type (signature sniffed)", "/v1/classify", null, png),
        Arguments.of("the record without a Content-Type (length sniffed)", "/v1/classify", null, pixels),
        Arguments.of("a Content-Type with parameters", "/v1/classify", raw + "; charset=binary", pixels));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("otherFormsOfTheSameImage")
  void sameAnswerAsTheRawRecord(String form, String path, String contentType, byte[] body) {
    HttpResponse<Buffer> response = post(path, contentType, Buffer.buffer(body));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    JsonObject viaRaw = post("/v1/classify", "application/octet-stream", Buffer.buffer(record(1))).bodyAsJsonObject();
    assertThat(response.bodyAsJsonObject().getJsonObject("probabilities")).isEqualTo(viaRaw.getJsonObject("probabilities"));
  }

  @Test
  void largeJpegIsResizedAndClassifiedAsItsSource() throws Exception {
    int index = confidentlyRightImage();
    BufferedImage big = new BufferedImage(640, 400, BufferedImage.TYPE_INT_RGB);
    var g = big.createGraphics();
    // Centred and square: the decoder's centre crop and downscaling give back about the 32x32 original.
    g.drawImage(ImageDecoder.fromChw(record(index)), 120, 0, 400, 400, null);
    g.dispose();
    HttpResponse<Buffer> response = post("/v1/classify", "image/jpeg", Buffer.buffer(encode(big, "jpg")));
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.bodyAsJsonObject().getString("label"))
        .isEqualTo(CifarClasses.name(TestData.testImages().label(index)));
  }

  /**
   * Of the first 1000 test images the model gets right, the one it is surest of (widest gap between
   * its first and second class): JPEG's loss and the resampling then cannot move its answer.
   */
  static int confidentlyRightImage() {
    int n = 1000;
    float[][] p = inProcess.predictBytes(TestData.testImages().pixels(), 0, n);
    int chosen = -1;
    float widest = 0;
    for (int i = 0; i < n; i++) {
      float[] sorted = p[i].clone();
      java.util.Arrays.sort(sorted);
      float gap = sorted[sorted.length - 1] - sorted[sorted.length - 2];
      if (Predictions.argMax(p[i]) == TestData.testImages().label(i) && gap > widest) {
        chosen = i;
        widest = gap;
      }
    }
    assertThat(widest).as("the surest right answer's lead over the second class").isGreaterThan(0.2f);
    return chosen;
  }

  @ParameterizedTest
  @ValueSource(strings = {"/v2/health/live", "/v2/health/ready", "/v2/models/cifar10-cnn/ready", "/_/health", "/_/ready"})
  void healthEndpointsSayOk(String path) {
    assertThat(TestServers.await(client.get(port, "127.0.0.1", path).send()).statusCode()).isEqualTo(200);
  }

  @Test
  void servedAccuracyMatchesInProcessAccuracy() {
    int n = 64;
    int servedCorrect = 0;
    int inProcessCorrect = 0;
    float[][] expected = inProcess.predictBytes(TestData.testImages().pixels(), 0, n);
    List<io.vertx.core.Future<HttpResponse<Buffer>>> answers = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      answers.add(client.post(port, "127.0.0.1", "/v1/classify").putHeader("Content-Type", "application/octet-stream")
          .sendBuffer(Buffer.buffer(record(i))));
    }
    for (int i = 0; i < n; i++) {
      HttpResponse<Buffer> response = TestServers.await(answers.get(i));
      assertThat(response.statusCode()).isEqualTo(200);
      int label = TestData.testImages().label(i);
      servedCorrect += response.bodyAsJsonObject().getInteger("index") == label ? 1 : 0;
      inProcessCorrect += Predictions.argMax(expected[i]) == label ? 1 : 0;
    }
    assertThat(servedCorrect).isEqualTo(inProcessCorrect);
  }

  static JsonObject oipRequest(String datatype, JsonArray shape, JsonArray data) {
    return new JsonObject().put("id", "req-1").put("inputs", new JsonArray().add(new JsonObject()
        .put("name", "input").put("shape", shape).put("datatype", datatype).put("data", data)));
  }

  @Test
  void openInferenceFp32BatchMatchesClassify() {
    JsonArray data = new JsonArray();
    for (int i = 0; i < 2; i++) {
      for (byte b : record(i)) {
        data.add((b & 0xff) / 255.0);
      }
    }
    HttpResponse<Buffer> response = post("/v2/models/cifar10-cnn/infer", "application/json",
        oipRequest("FP32", new JsonArray().add(2).add(3).add(32).add(32), data).toBuffer());
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    JsonObject body = response.bodyAsJsonObject();
    assertThat(body.getString("id")).isEqualTo("req-1");
    assertThat(body.getString("model_name")).isEqualTo("cifar10-cnn");
    JsonObject probabilities = body.getJsonArray("outputs").getJsonObject(0);
    assertThat(probabilities.getJsonArray("shape")).isEqualTo(new JsonArray().add(2).add(10));
    assertThat(probabilities.getJsonArray("data")).hasSize(20);
    JsonArray labels = body.getJsonArray("outputs").getJsonObject(1).getJsonArray("data");
    for (int i = 0; i < 2; i++) {
      String viaClassify = post("/v1/classify", "application/octet-stream", Buffer.buffer(record(i)))
          .bodyAsJsonObject().getString("label");
      assertThat(labels.getString(i)).isEqualTo(viaClassify);
    }
  }

  @Test
  void openInferenceAcceptsNestedUint8() {
    byte[] pixels = record(3);
    JsonArray channels = new JsonArray();
    for (int c = 0; c < 3; c++) {
      JsonArray rows = new JsonArray();
      for (int y = 0; y < 32; y++) {
        JsonArray row = new JsonArray();
        for (int x = 0; x < 32; x++) {
          row.add(pixels[c * 1024 + y * 32 + x] & 0xff);
        }
        rows.add(row);
      }
      channels.add(rows);
    }
    HttpResponse<Buffer> response = post("/v2/models/cifar10-cnn/infer", "application/json",
        oipRequest("UINT8", new JsonArray().add(1).add(3).add(32).add(32), new JsonArray().add(channels)).toBuffer());
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    String label = response.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(1).getJsonArray("data").getString(0);
    assertThat(label).isEqualTo(post("/v1/classify", "application/octet-stream", Buffer.buffer(pixels))
        .bodyAsJsonObject().getString("label"));
  }

  @Test
  void modelMetadataDescribesTheTensors() {
    JsonObject body = TestServers.await(client.get(port, "127.0.0.1", "/v2/models/cifar10-cnn").send()).bodyAsJsonObject();
    JsonObject input = body.getJsonArray("inputs").getJsonObject(0);
    assertThat(input.getString("datatype")).isEqualTo("FP32");
    assertThat(input.getJsonArray("shape")).isEqualTo(new JsonArray().add(-1).add(3).add(32).add(32));
    assertThat(body.getJsonArray("outputs").getJsonObject(0).getJsonArray("shape"))
        .isEqualTo(new JsonArray().add(-1).add(10));
    assertThat(body.getJsonArray("versions")).containsExactly(metadata.getString("version"));
  }

  @Test
  void metricsAreExposedInPrometheusFormat() {
    post("/v1/classify", "application/octet-stream", Buffer.buffer(record(0)));
    String text = TestServers.await(client.get(port, "127.0.0.1", "/metrics").send()).bodyAsString();
    assertThat(text).contains("cifar_inference_images_total", "cifar_inference_batch_size", "cifar_inference_queue_time",
        "cifar_inference_compute_time", "cifar_training_running", "cifar_model_loaded 1.0",
        "vertx_http_server_requests_total", "jvm_memory_used_bytes");
  }

  @Test
  void trainingStatusIsReported() {
    JsonObject status = TestServers.await(client.get(port, "127.0.0.1", "/train/status").send()).bodyAsJsonObject();
    assertThat(status.getString("state")).isEqualTo("idle");
  }

  @Test
  void openInferenceAnswersOnlyTheOutputsAskedFor() {
    JsonArray data = new JsonArray();
    for (byte b : record(0)) {
      data.add(b & 0xff);
    }
    JsonObject request = oipRequest("UINT8", new JsonArray().add(1).add(3).add(32).add(32), data)
        .put("outputs", new JsonArray().add(new JsonObject().put("name", "label")));
    JsonObject body = post("/v2/models/cifar10-cnn/infer", "application/json", request.toBuffer()).bodyAsJsonObject();
    assertThat(body.getJsonArray("outputs")).hasSize(1);
    assertThat(body.getJsonArray("outputs").getJsonObject(0).getString("name")).isEqualTo("label");
    request.put("outputs", new JsonArray().add(new JsonObject().put("name", "logits")));
    assertJsonError(post("/v2/models/cifar10-cnn/infer", "application/json", request.toBuffer()), 400, "unknown output");
  }

  /**
   * Why this waits for /_/ready to say 429 first: the holders' headers travel on new connections and
   * race the probe on the client's pooled one. A probe admitted before the last holder pushed that
   * holder out (429) and itself got 200: the test failed inside the class, and alone whenever the
   * first load of the test images delayed the probe past the holders' body deadline.
   */
  @Test
  void serverModeAnswers429BeyondMaxInflightAndRecovers() throws Exception {
    Buffer cat = Buffer.buffer(record(0));
    List<Socket> holders = new ArrayList<>();
    try {
      // Each holder has sent its headers but not its body: admitted, in flight, until it hangs up.
      for (int i = 0; i < MAX_INFLIGHT; i++) {
        Socket socket = new Socket("127.0.0.1", port);
        holders.add(socket);
        socket.getOutputStream().write(("POST /v1/classify HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + "Content-Type: application/octet-stream\r\nContent-Length: 3072\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> readyStatus() == 429);
      HttpResponse<Buffer> refused = post("/v1/classify", "application/octet-stream", cat);
      assertJsonError(refused, 429, "max_inflight");
      assertThat(refused.getHeader("Retry-After")).isEqualTo("1");
    } finally {
      for (Socket socket : holders) {
        socket.close();
      }
    }
    // Hung-up holders give their slots back.
    await().atMost(Duration.ofSeconds(10)).until(() -> readyStatus() == 200);
    HttpResponse<Buffer> served = post("/v1/classify", "application/octet-stream", cat);
    assertThat(served.statusCode()).as(served.bodyAsString()).isEqualTo(200);
  }

  static int readyStatus() {
    return TestServers.await(client.get(port, "127.0.0.1", "/_/ready").send()).statusCode();
  }
}
