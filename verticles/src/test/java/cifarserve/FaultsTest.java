package cifarserve;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults on disk and in training, met by the real {@code serve} process (its own JVM, its log read
 * back): a damaged newest artifact, a killed save's leftovers, a corrupt data set, SIGTERM mid-training.
 * In each the model that served before keeps serving, and the log says what happened.
 */
class FaultsTest {
  static final String OLD = "cnn-20200101T000000Z-0001";
  static final String NEWER = "cnn-20200102T000000Z-0002";
  static final long DRAIN_MS = 10_000;

  @TempDir
  Path modelDir;
  private final Vertx vertx = Vertx.vertx();
  private final WebClient client = WebClient.create(vertx);
  private Process process;
  private Path log;
  private int port;

  @BeforeEach
  void oneGoodArtifact() throws IOException {
    copyTestModelAs(OLD);
    Files.writeString(modelDir.resolve("admin-token"), TestServers.ADMIN_TOKEN);
  }

  @AfterEach
  void stop() {
    if (process != null) {
      process.destroyForcibly();
    }
    TestServers.await(vertx.close());
  }

  @Test
  void aCorruptNewestArtifactLeavesThePreviousOneServingAndKilledSaveLeftoversAreRemoved() throws Exception {
    copyTestModelAs(NEWER);
    TestModels.flipOneByte(modelDir.resolve(NEWER + ".onnx"));
    Path leftover = Files.writeString(modelDir.resolve(".tmp-" + NEWER + "123.zip"), "half a zip");
    Files.setLastModifiedTime(leftover, FileTime.from(Instant.now().minusSeconds(3600)));

    start("corrupt-newest", Map.of());
    JsonObject served = awaitReady();
    assertThat(served.getString("version")).isEqualTo(OLD);
    assertThat(classifyCat().statusCode()).isEqualTo(200);
    assertThat(logText()).contains("Skipping model artifact " + NEWER + ": ONNX file's SHA-256 differs from its "
        + "metadata; falling back to the previous valid one")
        .contains("Removed " + leftover.getFileName() + " left by an interrupted model save");
    assertThat(leftover).doesNotExist();
    stopWithSigtermAndExpectExitZero();
  }

  @Test
  void trainingOnADataSetWithABadChecksumFailsClearlyAndTheOldModelKeepsServing() throws Exception {
    // The real CIFAR-10 files, linked, except one copied with a single bit flipped.
    Path data = Files.createDirectories(modelDir.resolve("cifar"));
    Path real = TestData.dataset().directory().toAbsolutePath();
    try (Stream<Path> files = Files.list(real)) {
      for (Path file : files.toList()) {
        Files.createSymbolicLink(data.resolve(file.getFileName()), file);
      }
    }
    Path damaged = data.resolve("data_batch_3.bin");
    byte[] bytes = Files.readAllBytes(damaged);
    bytes[12345] ^= 1;
    Files.delete(damaged);
    Files.write(damaged, bytes);

    start("bad-checksum", Map.of("CIFAR_DIR", data.toString()));
    awaitReady();
    assertThat(startTraining(new JsonObject().put("epochs", 1).put("trainLimit", 320).put("testLimit", 200)))
        .isEqualTo(202);
    TestServers.pollJson(client, port, "/train/status", body -> "failed".equals(body.getString("state")), 60_000);
    assertThat(logText()).contains("checksum mismatch").contains("data_batch_3.bin");
    assertThat(served()).isEqualTo(OLD);
    assertThat(classifyCat().statusCode()).isEqualTo(200);
    stopWithSigtermAndExpectExitZero();
  }

  @Test
  void sigtermDuringTrainingKeepsTheOldModelServingThenExitsZeroWithinTheDrainTime() throws Exception {
    start("sigterm-training", Map.of("CIFAR_DIR", TestData.dataset().directory().toAbsolutePath().toString()));
    awaitReady();
    // Big enough to be mid-epoch for minutes: the signal must not wait for it.
    assertThat(startTraining(new JsonObject().put("epochs", 3).put("trainLimit", 20_000).put("testLimit", 1000)))
        .isEqualTo(202);
    TestServers.pollJson(client, port, "/train/status", body -> "training".equals(body.getString("state")), 120_000);
    assertThat(classifyCat().statusCode()).isEqualTo(200);
    assertThat(served()).isEqualTo(OLD);

    stopWithSigtermAndExpectExitZero();
    assertThat(logText()).contains("Training cancelled");
    assertThat(listing()).as("the old artifact only: no new version, no temp file")
        .containsExactlyInAnyOrder("admin-token", OLD + ".json", OLD + ".onnx", OLD + ".zip");
  }

  /** The shared test model's files under another version id (its metadata says so too). */
  private void copyTestModelAs(String version) throws IOException {
    JsonObject original = TestModels.metadata();
    String from = original.getString("version");
    for (String ext : List.of(".zip", ".onnx")) {
      Files.copy(TestModels.directory().resolve(from + ext), modelDir.resolve(version + ext));
    }
    JsonObject meta = original.copy().put("version", version);
    meta.getJsonObject("onnx").put("file", version + ".onnx");
    Files.writeString(modelDir.resolve(version + ".json"), meta.encodePrettily());
  }

  private void start(String name, Map<String, String> extraEnv) throws IOException {
    port = TestServers.freePort();
    log = Path.of("target", "faults-" + name + ".log");
    Map<String, String> env = new HashMap<>(Map.of("MODEL_DIR", modelDir.toString(), "HTTP_PORT", String.valueOf(port),
        "ADMIN_TOKEN_FILE", modelDir.resolve("admin-token").toString(), "ACCURACY_GATE_ENABLED", "false",
        "SHUTDOWN_DRAIN_MS", String.valueOf(DRAIN_MS)));
    env.putAll(extraEnv);
    process = TestServers.startProcess(log, env);
  }

  private JsonObject awaitReady() throws InterruptedException {
    return TestServers.pollJson(client, port, "/", body -> "ready".equals(body.getString("status")), 120_000);
  }

  private String served() {
    return TestServers.await(client.get(port, "127.0.0.1", "/").send()).bodyAsJsonObject().getString("version");
  }

  private HttpResponse<Buffer> classifyCat() {
    return TestServers.await(client.post(port, "127.0.0.1", "/v1/classify")
        .putHeader("Content-Type", "application/octet-stream")
        .sendBuffer(Buffer.buffer(TestData.testImages().image(0))));
  }

  private int startTraining(JsonObject request) {
    return TestServers.await(TestServers.admin(client.post(port, "127.0.0.1", "/train")).sendJsonObject(request))
        .statusCode();
  }

  private void stopWithSigtermAndExpectExitZero() throws Exception {
    long sigterm = System.nanoTime();
    process.destroy();
    assertThat(process.waitFor(DRAIN_MS + 5_000, TimeUnit.MILLISECONDS)).as("exits within the drain time").isTrue();
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sigterm)).as("ms from SIGTERM to exit")
        .isLessThan(DRAIN_MS);
    assertThat(process.exitValue()).isZero();
    assertThat(logText()).contains("Drained and stopped");
  }

  private String logText() throws IOException {
    return Files.readString(log, StandardCharsets.ISO_8859_1);
  }

  private List<String> listing() throws IOException {
    try (Stream<Path> files = Files.list(modelDir)) {
      return files.map(p -> p.getFileName().toString()).toList();
    }
  }
}
