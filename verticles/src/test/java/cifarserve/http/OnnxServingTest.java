package cifarserve.http;

import static org.assertj.core.api.Assertions.assertThat;

import cifarserve.TestData;
import cifarserve.TestServers;
import cifarserve.Server;
import cifarserve.data.CifarImages;
import cifarserve.inference.Predictions;
import cifarserve.model.ModelRepository;
import cifarserve.model.ModelVersion;
import cifarserve.model.OnnxModel;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real service on 127.0.0.1 serving the shipped model's ONNX twin: the OIP metadata names ONNX
 * Runtime, and real test images come back classified as the model classifies them in-process.
 */
class OnnxServingTest {
  @TempDir
  static Path modelDir;
  static Server server;
  static WebClient client;
  static JsonObject metadata;

  @BeforeAll
  static void start() throws Exception {
    ModelRepository shipped = new ModelRepository(Path.of("..", "models"));
    metadata = shipped.newestServable().orElseThrow();
    ModelVersion version = ModelVersion.of(metadata);
    for (Path file : List.of(shipped.modelFile(version), shipped.onnxFile(version), shipped.metadataFile(version))) {
      Files.copy(file, modelDir.resolve(file.getFileName()));
    }
    // maxDelayMs 2: concurrent requests batch together, as under load
    server = TestServers.start(TestServers.config(modelDir, new JsonObject()
        .put("inference", new JsonObject().put("maxDelayMs", 2))));
    client = WebClient.create(server.vertx());
    TestServers.pollJson(client, server.port(), "/v2/health/ready", body -> body.getBoolean("ready", false), 60_000);
  }

  @AfterAll
  static void stop() {
    TestServers.await(server.vertx().close());
  }

  @Test
  void metadataNamesOnnxRuntimeAndTheServedVersion() {
    JsonObject body = TestServers.await(client.get(server.port(), "127.0.0.1", "/v2/models/cifar10-cnn").send())
        .bodyAsJsonObject();
    assertThat(body.getString("platform")).isEqualTo("onnxruntime_onnx");
    assertThat(body.getJsonArray("versions")).containsExactly(metadata.getString("version"));
    assertThat(body.getJsonArray("inputs").getJsonObject(0).getString("name")).isEqualTo("input");
  }

  @Test
  void realTestImagesAreClassifiedAsTheModelClassifiesThemInProcess() throws Exception {
    int n = 128;
    CifarImages images = TestData.testImages().limit(n);
    float[][] expected;
    try (OnnxModel inProcess = new ModelRepository(modelDir).loadOnnx(metadata, 1, 1)) {
      expected = inProcess.predictBytes(images.pixels(), 0, n);
    }
    List<Future<HttpResponse<Buffer>>> answers = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      answers.add(client.post(server.port(), "127.0.0.1", "/v1/classify")
          .putHeader("Content-Type", "application/octet-stream").sendBuffer(Buffer.buffer(images.image(i))));
    }
    int correct = 0;
    for (int i = 0; i < n; i++) {
      HttpResponse<Buffer> response = TestServers.await(answers.get(i));
      assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
      JsonObject answer = response.bodyAsJsonObject();
      assertThat(answer.getString("modelVersion")).isEqualTo(metadata.getString("version"));
      assertThat(answer.getInteger("index")).as("image %d", i).isEqualTo(Predictions.argMax(expected[i]));
      correct += answer.getInteger("index") == images.label(i) ? 1 : 0;
    }
    // the shipped model's test accuracy is ~80 %: far above chance on any 128 real images
    assertThat(correct / (double) n).isGreaterThan(0.65);
  }

  @Test
  void floatTensorsOverOpenInferenceAnswerAsTheRawRecordsDo() {
    CifarImages images = TestData.testImages().limit(4);
    JsonArray data = new JsonArray();
    for (byte pixel : images.pixels()) {
      data.add((pixel & 0xff) / 255.0);
    }
    JsonObject request = new JsonObject().put("inputs", new JsonArray().add(new JsonObject().put("name", "input")
        .put("shape", new JsonArray().add(4).add(3).add(32).add(32)).put("datatype", "FP32").put("data", data)));
    HttpResponse<Buffer> response = TestServers.await(client.post(server.port(), "127.0.0.1", "/v2/models/cifar10-cnn/infer")
        .putHeader("Content-Type", "application/json").sendBuffer(request.toBuffer()));
    assertThat(response.statusCode()).as(response.bodyAsString()).isEqualTo(200);
    JsonArray labels = response.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(1).getJsonArray("data");
    for (int i = 0; i < 4; i++) {
      String raw = TestServers.await(client.post(server.port(), "127.0.0.1", "/v1/classify")
          .putHeader("Content-Type", "application/octet-stream").sendBuffer(Buffer.buffer(images.image(i))))
          .bodyAsJsonObject().getString("label");
      assertThat(labels.getString(i)).isEqualTo(raw);
    }
  }
}
