package cifarserve;

import static org.assertj.core.api.Assertions.assertThat;

import cifarserve.config.ServiceConfig;
import cifarserve.config.ServiceSettings;
import cifarserve.data.CifarBinaryReader;
import cifarserve.data.CifarDataset;
import cifarserve.data.CifarImages;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The function's code runs with nothing of the training stack on its classpath: this module's test
 * classpath is the function jar's (plus JUnit), so a class of DL4J, ND4J, JavaCPP or Hazelcast loaded
 * anywhere on the request path would fail here.
 */
class FunctionWithoutTrainingStackTest {
  private static final String FORBIDDEN = "^(org/deeplearning4j/|org/nd4j/|org/bytedeco/|com/hazelcast/)"
      + "|(^|/)(libnd4j|libjnind4j|libopenblas)[^/]*$";

  @TempDir
  Path modelDir;

  @Test
  void theClasspathHoldsNoTrainingStack() throws IOException {
    List<String> found = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(File.pathSeparator)) {
      Path path = Path.of(entry);
      if (Files.isDirectory(path)) {
        try (Stream<Path> files = Files.walk(path)) {
          files.map(f -> path.relativize(f).toString()).filter(n -> n.matches(".*(" + FORBIDDEN + ").*"))
              .forEach(n -> found.add(entry + "!" + n));
        }
      } else if (entry.endsWith(".jar") && Files.isRegularFile(path)) {
        try (ZipFile jar = new ZipFile(path.toFile())) {
          jar.stream().map(e -> e.getName()).filter(n -> java.util.regex.Pattern.compile(FORBIDDEN).matcher(n).find())
              .limit(3).forEach(n -> found.add(entry + "!" + n));
        }
      }
    }
    assertThat(found).isEmpty();
  }

  @Test
  void theShippedModelServesRealTestImages() throws Exception {
    // CIFAR_DIR, else fetched and MD5-checked into the cache as the node's tests do: never skipped.
    String cifarDir = System.getenv("CIFAR_DIR");
    CifarDataset dataset = CifarDataset.open(cifarDir == null || cifarDir.isBlank() ? null : Path.of(cifarDir),
        CifarDataset.defaultCacheDir(), System.out::println);
    try (Stream<Path> shipped = Files.list(Path.of("..", "..", "models"))) {
      for (Path file : shipped.toList()) {
        Files.copy(file, modelDir.resolve(file.getFileName()));
      }
    }
    JsonObject config = ServiceConfig.load(null, Map.of()).put("modelDir", modelDir.toString()).put("trainOnStart", false);
    config.getJsonObject("http").put("host", "127.0.0.1").put("port", 0);
    Vertx vertx = Vertx.builder().with(Server.vertxOptions()).build();
    try {
      Server server = await(Server.deploy(vertx, ServiceSettings.of(config), List.of()));
      WebClient client = WebClient.create(vertx);
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (await(client.get(server.port(), "127.0.0.1", "/v2/health/ready").send()).statusCode() != 200) {
        assertThat(System.nanoTime()).as("ready within 2 minutes").isLessThan(deadline);
        Thread.sleep(100);
      }
      JsonObject metadata = await(client.get(server.port(), "127.0.0.1", "/v2/models/cifar10-cnn").send()).bodyAsJsonObject();
      assertThat(metadata.getString("platform")).isEqualTo("onnxruntime_onnx");

      CifarImages test = CifarBinaryReader.read(dataset.directory().resolve(CifarDataset.TEST_FILE)).limit(64);
      int correct = 0;
      for (int i = 0; i < test.size(); i++) {
        HttpResponse<Buffer> answer = await(client.post(server.port(), "127.0.0.1", "/v1/classify")
            .putHeader("Content-Type", "application/octet-stream").sendBuffer(Buffer.buffer(test.image(i))));
        assertThat(answer.statusCode()).as(answer.bodyAsString()).isEqualTo(200);
        correct += answer.bodyAsJsonObject().getInteger("index") == test.label(i) ? 1 : 0;
      }
      assertThat(correct / (double) test.size()).as("accuracy on 64 real test images").isGreaterThan(0.6);
    } finally {
      await(vertx.close());
    }
  }

  private static <T> T await(io.vertx.core.Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(2, TimeUnit.MINUTES);
  }
}
