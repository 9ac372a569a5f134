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
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Every endpoint of the HTTP API, over real HTTP on 127.0.0.1, against a model trained on CIFAR-10. */
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

  @Test
  void postToTheRootClassifiesAsOpenFaasInvokesIt() {
    JsonObject viaRoot = post("/", "application/octet-stream", Buffer.buffer(record(0))).bodyAsJsonObject();
    JsonObject viaClassify = post("/v1/classify", "application/octet-stream", Buffer.buffer(record(0))).bodyAsJsonObject();
    assertThat(viaRoot.getJsonObject("probabilities")).isEqualTo(viaClassify.getJsonObject("probabilities"));
  }

  @Test
  void wholeRecordWithLabelByteIsAccepted() {
    byte[] withLabel = new byte[CifarImages.RECORD_BYTES];
    withLabel[0] = 3;
    System.arraycopy(record(0), 0, withLabel, 1, CifarImages.PIXELS_PER_IMAGE);
    JsonObject a = post("/v1/classify", "application/octet-stream", Buffer.buffer(withLabel)).bodyAsJsonObject();
    JsonObject b = post("/v1/classify", "application/octet-stream", Buffer.buffer(record(0))).bodyAsJsonObject();
    assertThat(a.getJsonObject("probabilities")).isEqualTo(b.getJsonObject("probabilities"));
  }

  @Test
  void pngOfARecordIsClassifiedLikeTheRawRecord() throws Exception {
    byte[] ship = record(1);
    byte[] png = encode(ImageDecoder.fromChw(ship), "png");
    JsonObject fromPng = post("/v1/classify", "image/png", Buffer.buffer(png)).bodyAsJsonObject();
    JsonObject fromRaw = post("/v1/classify", "application/octet-stream", Buffer.buffer(ship)).bodyAsJsonObject();
    assertThat(fromPng.getJsonObject("probabilities")).isEqualTo(fromRaw.getJsonObject("probabilities"));
    // Without a Content-Type, the PNG signature is recognised.
    JsonObject sniffed = post("/v1/classify", null, Buffer.buffer(png)).bodyAsJsonObject();
    assertThat(sniffed.getString("label")).isEqualTo(fromRaw.getString("label"));
  }

  @Test
  void largeJpegIsResizedAndClassified() throws Exception {
    BufferedImage big = new BufferedImage(640, 400, BufferedImage.TYPE_INT_RGB);
    var g = big.createGraphics();
    g.drawImage(ImageDecoder.fromChw(record(2)), 120, 0, 400, 400, null);
    g.dispose();
    HttpResponse<Buffer> response = post("/v1/classify", "image/jpeg", Buffer.buffer(encode(big, "jpg")));
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(CifarClasses.NAMES).contains(response.bodyAsJsonObject().getString("label"));
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

  @Test
  void undecodableJpegIs400() {
    byte[] garbage = new byte[2000];
    new java.util.Random(1).nextBytes(garbage);
    garbage[0] = (byte) 0xFF;
    garbage[1] = (byte) 0xD8;
    assertJsonError(post("/v1/classify", "image/jpeg", Buffer.buffer(garbage)), 400, "decod");
  }

  @Test
  void unsupportedMediaTypeIs415() {
    assertJsonError(post("/v1/classify", "text/plain", Buffer.buffer("a cat")), 415, "unsupported Content-Type");
  }

  @Test
  void rawRecordOfWrongLengthIs400() {
    assertJsonError(post("/v1/classify", "application/octet-stream", Buffer.buffer(new byte[100])), 400, "3072");
  }

  @Test
  void emptyBodyIs400() {
    assertJsonError(post("/v1/classify", "image/png", Buffer.buffer()), 400, "empty body");
  }

  @Test
  void bodyOverTheLimitIs413() {
    assertJsonError(post("/v1/classify", "image/png", Buffer.buffer(new byte[(int) BODY_LIMIT + 10])), 413,
        "larger than the limit");
  }

  @Test
  void imageWithTooManyPixelsIs400() throws Exception {
    BufferedImage huge = new BufferedImage(2500, 2000, BufferedImage.TYPE_BYTE_GRAY);
    assertJsonError(post("/v1/classify", "image/png", Buffer.buffer(encode(huge, "png"))), 400, "above the limit");
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
  void openInferenceRejectsBadTensors() {
    String path = "/v2/models/cifar10-cnn/infer";
    JsonArray zeros = new JsonArray();
    for (int i = 0; i < 3072; i++) {
      zeros.add(0);
    }
    assertJsonError(post(path, "application/json", oipRequest("FP32", new JsonArray().add(1).add(32).add(32).add(3),
        zeros).toBuffer()), 400, "shape");
    assertJsonError(post(path, "application/json", oipRequest("INT64", new JsonArray().add(1).add(3).add(32).add(32),
        zeros).toBuffer()), 400, "datatype");
    assertJsonError(post(path, "application/json", oipRequest("FP32", new JsonArray().add(2).add(3).add(32).add(32),
        zeros).toBuffer()), 400, "needs 6144");
    assertJsonError(post(path, "application/json", oipRequest("UINT8", new JsonArray().add(1).add(3).add(32).add(32),
        zeros.copy().set(5, 300)).toBuffer()), 400, "0-255");
    assertJsonError(post(path, "application/json", oipRequest("FP32", new JsonArray().add(1).add(3).add(32).add(32),
        zeros.copy().set(5, 17.5)).toBuffer()), 400, "0-1");
    assertJsonError(post(path, "application/json", Buffer.buffer("{not json")), 400, "JSON");
    assertJsonError(post(path, "application/json", new JsonObject().put("inputs", new JsonArray()).toBuffer()), 400,
        "exactly one");
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
  void healthEndpoints() {
    assertThat(TestServers.await(client.get(port, "127.0.0.1", "/v2/health/live").send()).statusCode()).isEqualTo(200);
    assertThat(TestServers.await(client.get(port, "127.0.0.1", "/v2/health/ready").send()).statusCode()).isEqualTo(200);
    assertThat(TestServers.await(client.get(port, "127.0.0.1", "/v2/models/cifar10-cnn/ready").send()).statusCode())
        .isEqualTo(200);
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
  void unknownPathIsJson404AndUntokenedTrainIs401() {
    HttpResponse<Buffer> response = TestServers.await(client.get(port, "127.0.0.1", "/nope").send());
    assertJsonError(response, 404, "no such endpoint");
    assertJsonError(post("/train", "application/json", new JsonObject().put("epochs", 1).toBuffer()), 401, "token");
  }

  @Test
  void rawRecordWithoutContentTypeIsClassified() {
    HttpResponse<Buffer> response = post("/v1/classify", null, Buffer.buffer(record(0)));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    assertThat(response.bodyAsJsonObject().getString("label"))
        .isEqualTo(post("/v1/classify", "application/octet-stream", Buffer.buffer(record(0))).bodyAsJsonObject().getString("label"));
    assertJsonError(post("/v1/classify", null, Buffer.buffer("not an image")), 415, "unsupported Content-Type");
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
