package cifarserve.openfaas;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * One cold-started function container: its first answers, the study's endpoint, both image encodings,
 * the lock file, idle memory, and the load tester's view of the container.
 */
class FunctionServingTest {
  /** The README's budget for the idle function (cgroup, /tmp included). */
  static final long MAX_IDLE_MIB = 150;

  static FunctionContainer fn;
  static int readyAfterStart;
  static HttpResponse<String> firstAnswer;
  static long idleCgroupMiB;

  @BeforeAll
  static void coldStart() throws Exception {
    byte[] record = Samples.raw();
    fn = FunctionContainer.of();
    fn.start(); // returns once /_/health is 200
    readyAfterStart = fn.status("/_/ready");
    firstAnswer = fn.classify(record, "application/octet-stream");
    idleCgroupMiB = MemoryCgroup.of(fn.pid()).usage() >> 20;
    System.out.printf("[container] idle after one classification: cgroup %d MiB, JVM RSS %d MiB%n", idleCgroupMiB,
        MemoryCgroup.statusMiB(fn.pid(), "VmRSS"));
  }

  @AfterAll
  static void stop() {
    if (fn != null) {
      fn.stop();
    }
  }

  @Test
  void coldStartIsHealthyReadyAndAnswersCorrectly() {
    assertThat(readyAfterStart).as("/_/ready once /_/health is 200").isEqualTo(200);
    Samples.assertCat(firstAnswer.statusCode(), firstAnswer.body());
  }

  @Test
  void lockFileExistsWhileHealthy() {
    assertThat(fn.status("/_/health")).isEqualTo(200);
    assertThat(fn.lockExists()).as("/tmp/.lock").isTrue();
  }

  @Test
  void studyEndpointAnswersJson() throws Exception {
    HttpResponse<String> root = fn.get("/");
    assertThat(root.statusCode()).as(root.body()).isEqualTo(200);
    assertThat(new JsonObject(root.body()).getValue("accuracy")).as(root.body()).isInstanceOf(Number.class);
  }

  @Test
  void pngOfTheSameRecordIsACat() throws Exception {
    HttpResponse<String> answer = fn.classify(Samples.png(), "image/png");
    Samples.assertCat(answer.statusCode(), answer.body());
  }

  @Test
  void idleMemoryStaysWithinBudget() {
    assertThat(idleCgroupMiB).isPositive().isLessThanOrEqualTo(MAX_IDLE_MIB);
  }

  /** build-image.sh unpacks the natives into the image: ONNX Runtime is mapped from /app/native, nothing from /tmp. */
  @Test
  void nativesAreMappedFromTheImageNotExtractedIntoTmp() throws Exception {
    List<String> mapped = Files.readAllLines(Path.of("/proc/" + fn.pid() + "/maps")).stream()
        .map(line -> line.split("\\s+", 6)).filter(f -> f.length == 6 && f[5].startsWith("/")).map(f -> f[5]).distinct().toList();
    try (Stream<Path> tmp = Files.walk(fn.inside("/tmp"))) {
      System.out.printf("[container] natives mapped: %s; /tmp holds: %s%n",
          mapped.stream().filter(f -> f.startsWith("/app/native/")).toList(), tmp.map(Path::getFileName).toList());
    }
    assertThat(mapped).anyMatch(f -> f.startsWith("/app/native/libonnxruntime"));
    assertThat(mapped).as("shared libraries mapped from /tmp").noneMatch(f -> f.startsWith("/tmp/") && f.matches(".*\\.so(\\.\\d+)*"));
  }

  /** The load tester's --container source reads the live container's CPU and memory through its cgroup. */
  @Test
  void loadTesterMeasuresTheContainer() throws Exception {
    JsonObject report = LoadTester.run(fn, "loadtest-container", "-n", "60", "-c", "2", "-s", "30",
        "--container", fn.getContainerId(), "--idle-before", "2s", "--idle-after", "1s", "--sample-interval", "200ms");
    assertThat(LoadTester.ok(report)).as("answered 200").isEqualTo(60);
    JsonObject resources = report.getJsonObject("resources");
    assertThat(resources.getString("target")).isNotBlank();
    JsonObject phases = resources.getJsonObject("phases");
    assertThat(phases.getJsonObject("idle").getInteger("samples")).isPositive();
    assertThat(phases.getJsonObject("busy").getJsonObject("cpuPercent").getDouble("avg")).isPositive();
    assertThat(phases.getJsonObject("busy").getJsonObject("memoryBytes").getDouble("avg")).isPositive();
  }
}
