package cifarserve;

import static org.assertj.core.api.Assertions.assertThat;

import cifarserve.config.ServiceConfig;
import cifarserve.config.ServiceSettings;
import cifarserve.data.CifarImages;
import cifarserve.model.ArtifactStore;
import cifarserve.model.ModelPreload;
import cifarserve.model.OnnxModel;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The function's model loads beside Vert.x start-up ({@link ModelPreload}); the process answers
 * "not ready" (and 503 for inference) until that model is in, then serves it.
 */
class ModelPreloadTest {
  @TempDir
  Path modelDir;

  @Test
  void notReadyUntilThePreloadedModelIsIn() throws Exception {
    String shipped = copyShippedModel();
    JsonObject config = ServiceConfig.load(null, Map.of()).put("modelDir", modelDir.toString()).put("trainOnStart", false);
    config.getJsonObject("http").put("host", "127.0.0.1").put("port", 0);
    ServiceSettings settings = ServiceSettings.of(config);
    CompletableFuture<Void> hold = new CompletableFuture<>();
    ModelPreload preload = ModelPreload.begin();
    CompletionStage<Optional<OnnxModel>> model = hold.thenCompose(v -> preload.load(new ArtifactStore(modelDir), 1, 1));
    Vertx vertx = Vertx.builder().with(Server.vertxOptions()).build();
    try {
      Server server = await(Server.deploy(vertx, settings, model));
      WebClient client = WebClient.create(vertx);
      assertThat(status(client, server, "/v2/health/ready")).isEqualTo(503);
      assertThat(status(client, server, "/_/health")).isEqualTo(503);
      assertThat(classify(client, server).statusCode()).isEqualTo(503);

      hold.complete(null);
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (status(client, server, "/v2/health/ready") != 200) {
        assertThat(System.nanoTime()).as("ready within 2 minutes of the model's release").isLessThan(deadline);
        Thread.sleep(50);
      }
      HttpResponse<Buffer> answer = classify(client, server);
      assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(200);
      JsonObject served = await(client.get(server.port(), "127.0.0.1", "/v2/models/cifar10-cnn").send()).bodyAsJsonObject();
      assertThat(served.getJsonArray("versions").getString(0)).isEqualTo(shipped);
    } finally {
      await(vertx.close());
    }
  }

  @Test
  void anEmptyFolderPreloadsNothing() throws Exception {
    assertThat(ModelPreload.begin().load(new ArtifactStore(modelDir), 1, 1).toCompletableFuture().get(2, TimeUnit.MINUTES))
        .isEmpty();
  }

  @Test
  void aModelWhoseBytesDoNotMatchItsMetadataIsNotServed() throws Exception {
    String version = copyShippedModel();
    Path onnx = modelDir.resolve(version + ".onnx");
    byte[] bytes = Files.readAllBytes(onnx);
    bytes[bytes.length - 1] ^= 1;
    Files.write(onnx, bytes);
    // as for any local load: the damaged artifact is skipped (the previous intact one would serve)
    assertThat(ModelPreload.begin().load(new ArtifactStore(modelDir), 1, 1).toCompletableFuture().get(2, TimeUnit.MINUTES))
        .isEmpty();
  }

  @Test
  void aDamagedNewestModelFallsBackToThePreviousIntactOne() throws Exception {
    String shipped = copyShippedModel();
    String newer = "cnn-29990101T000000Z-0002";
    JsonObject metadata = new JsonObject(Files.readString(modelDir.resolve(shipped + ".json"))).put("version", newer);
    Files.writeString(modelDir.resolve(newer + ".json"), metadata.encodePrettily());
    byte[] bytes = Files.readAllBytes(modelDir.resolve(shipped + ".onnx"));
    bytes[bytes.length / 2] ^= 1;
    Files.write(modelDir.resolve(newer + ".onnx"), bytes);

    Optional<OnnxModel> model = ModelPreload.begin().load(new ArtifactStore(modelDir), 1, 1).toCompletableFuture()
        .get(2, TimeUnit.MINUTES);
    try {
      assertThat(model).map(OnnxModel::version).contains(shipped);
    } finally {
      model.ifPresent(OnnxModel::close);
    }
  }

  /** The repository's shipped model (its ONNX twin and metadata) into the test's folder; its version. */
  private String copyShippedModel() throws IOException {
    String version = null;
    try (Stream<Path> shipped = Files.list(Path.of("..", "..", "models"))) {
      for (Path file : shipped.filter(f -> f.toString().matches(".*\\.(onnx|json)$")).toList()) {
        Files.copy(file, modelDir.resolve(file.getFileName()));
        if (file.toString().endsWith(".json")) {
          version = new JsonObject(Files.readString(file)).getString("version");
        }
      }
    }
    return version;
  }

  private static int status(WebClient client, Server server, String path) throws Exception {
    return await(client.get(server.port(), "127.0.0.1", path).send()).statusCode();
  }

  private static HttpResponse<Buffer> classify(WebClient client, Server server) throws Exception {
    return await(client.post(server.port(), "127.0.0.1", "/v1/classify")
        .putHeader("Content-Type", "application/octet-stream").sendBuffer(Buffer.buffer(new byte[CifarImages.PIXELS_PER_IMAGE])));
  }

  private static <T> T await(io.vertx.core.Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(2, TimeUnit.MINUTES);
  }
}
