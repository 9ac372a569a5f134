package cifarserve.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import cifarserve.loadtest.report.CsvReport;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The "must show" run (--pid and --json), the metrics scrape, and every report file. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class ReportsAndResourcesTest {
  @TempDir
  Path tmp;

  private TestTargetServer server;

  @BeforeEach
  void startServer() throws Exception {
    server = new TestTargetServer();
  }

  @AfterEach
  void stopServer() throws Exception {
    server.close();
  }

  @Test
  void jsonHoldsPercentilesStatusCountsAndIdleBusyCpuAndMemoryOfThePid() throws Exception {
    // The target server runs in this JVM, so this JVM's PID is the target's PID.
    String pid = Long.toString(ProcessHandle.current().pid());
    CliRun run = CliRun.run(tmp, "-n", "300", "-c", "2", "-s", "300", "--pid", pid, "--sample-interval", "50ms",
        "--idle-before", "400ms", "--idle-after", "300ms", server.url("/delay?ms=2"));

    assertThat(run.exitCode()).as(run.stderr()).isZero();
    JsonObject json = run.json();
    assertThat(json.getJsonObject("latencyMs").fieldNames())
        .contains("min", "mean", "stdev", "p50", "p90", "p95", "p99", "p99_9", "max");
    assertThat(run.requests().getJsonObject("statusCodes").getLong("200")).isEqualTo(300);
    // JIT compile time of the measured phase, in seconds: at most every compiler thread busy all along.
    double jit = json.getJsonObject("generator").getDouble("jitCompileSeconds");
    assertThat(jit).isBetween(0.0, json.getDouble("elapsedSeconds") * Runtime.getRuntime().availableProcessors() + 0.01);
    JsonObject resources = json.getJsonObject("resources");
    assertThat(resources.getString("target")).isEqualTo("pid " + pid);
    JsonObject idle = resources.getJsonObject("phases").getJsonObject("idle");
    JsonObject busy = resources.getJsonObject("phases").getJsonObject("busy");
    assertThat(idle.getInteger("samples")).isGreaterThanOrEqualTo(4);
    assertThat(busy.getInteger("samples")).isGreaterThanOrEqualTo(1);
    assertThat(idle.getJsonObject("cpuPercent").getDouble("avg")).isNotNull();
    assertThat(busy.getJsonObject("cpuPercent").getDouble("avg")).isPositive();
    assertThat(busy.getJsonObject("cpuPercent").getDouble("peak")).isPositive();
    assertThat(idle.getJsonObject("memoryBytes").getDouble("avg")).isGreaterThan(10e6);
    assertThat(busy.getJsonObject("memoryBytes").getLong("peak")).isGreaterThan(10_000_000L);
    assertThat(resources.getJsonObject("phases").getJsonObject("after")).isNotNull();
    // Samples and latency intervals share one timeline: idle samples sit before 0.
    assertThat(resources.getJsonArray("samples").getJsonObject(0).getDouble("t")).isNegative();
    assertThat(run.stdout()).contains("Target resources (pid " + pid + ")").contains("idle").contains("busy");
  }

  @Test
  void metricsEndpointGivesHeapAndCpu() throws Exception {
    CliRun run = CliRun.run(tmp, "-n", "20", "-c", "1", "-k", "--metrics", "--sample-interval", "50ms",
        "--idle-before", "200ms", "--idle-after", "100ms", server.url("/ok"));

    JsonObject busy = run.json().getJsonObject("resources").getJsonObject("phases").getJsonObject("idle");
    assertThat(busy.getJsonObject("heapBytes").getLong("peak")).isEqualTo(31_457_280L);
    assertThat(busy.getJsonObject("cpuPercent").getDouble("avg")).isCloseTo(50.0,
        org.assertj.core.data.Offset.offset(1e-6));
  }

  @Test
  void csvJsonAndHtmlReportsAreWritten() throws Exception {
    Path csv = tmp.resolve("intervals.csv");
    Path requests = tmp.resolve("requests.csv");
    Path report = tmp.resolve("report");
    CliRun run = CliRun.run(tmp, "-t", "1.2", "-c", "2", "-k", "--interval", "200ms", "--csv", csv.toString(),
        "--csv-requests", requests.toString(), "--report", report.toString(), "--pid",
        Long.toString(ProcessHandle.current().pid()), "--sample-interval", "100ms", "--idle-before", "200ms",
        "--idle-after", "200ms", server.url("/delay?ms=5"));

    assertThat(run.exitCode()).as(run.stderr()).isZero();
    List<String> intervalRows = Files.readAllLines(csv);
    assertThat(intervalRows.get(0)).isEqualTo(CsvReport.INTERVAL_HEADER);
    // 1.2 s at 200 ms a row, plus idle rows before and after.
    assertThat(intervalRows.size()).isGreaterThanOrEqualTo(1 + 6 + 1);
    assertThat(intervalRows.stream().filter(r -> r.contains(",busy,"))).isNotEmpty();
    assertThat(intervalRows.stream().filter(r -> r.startsWith("-"))).isNotEmpty();

    List<String> requestRows = Files.readAllLines(requests);
    assertThat(requestRows.get(0)).isEqualTo(CsvReport.REQUEST_HEADER);
    assertThat((long) requestRows.size() - 1).isEqualTo(run.requests().getLong("completed"));
    assertThat(requestRows.get(1)).contains(",200,SUCCESS,");

    String html = Files.readString(report.resolve("index.html"));
    assertThat(html).contains("data:image/png;base64,").contains("Latency over time").contains("Latency by percentile")
        .contains("Throughput over time").contains("Target CPU").contains("Target memory");
    for (String png : List.of("latency-over-time.png", "latency-percentiles.png", "throughput.png", "cpu.png",
        "memory.png")) {
      byte[] bytes = Files.readAllBytes(report.resolve(png));
      assertThat(bytes).as(png).startsWith((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
    }
    assertThat(run.json().getJsonArray("timeline").size()).isEqualTo(intervalRows.size() - 1);
  }
}
