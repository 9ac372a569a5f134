package cifarserve.openfaas;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Sustained load at the function's 2 CPU / 4 GiB limit, with the image's own entrypoint plus Native
 * Memory Tracking (summary printed at exit): every request answered and the cgroup's peak below the limit.
 */
class MemoryUnderLoadTest {
  static final String SECONDS = System.getProperty("container.loadSeconds", "30");
  private static final Pattern NMT_TOTAL = Pattern.compile("(?m)^Total: reserved=\\d+\\w*, committed=(\\d+)(KB|MB|GB)?");

  @Test
  void everyRequestIsAnsweredAndMemoryStaysUnderTheLimit() throws Exception {
    String[] entrypoint = FunctionContainer.docker().inspectImageCmd(FunctionContainer.IMAGE).exec().getConfig().getEntrypoint();
    List<String> args = new ArrayList<>(List.of("-XX:NativeMemoryTracking=summary", "-XX:+UnlockDiagnosticVMOptions",
        "-XX:+PrintNMTStatistics"));
    args.addAll(Arrays.asList(entrypoint).subList(1, entrypoint.length));
    try (FunctionContainer fn = new FunctionContainer(FunctionContainer.IMAGE, Map.of(),
        cmd -> cmd.withEntrypoint(entrypoint[0]).withCmd(args))) {
      fn.start();
      JsonObject report = LoadTester.run(fn, "loadtest-memory", "-k", "-c", "8", "-t", SECONDS + "s", "-n", "2000000",
          "-s", "30");
      long pid = fn.pid();
      long peakMiB = MemoryCgroup.of(pid).peak() >> 20;
      long rssHighWaterMiB = MemoryCgroup.statusMiB(pid, "VmHWM");
      assertThat(fn.stopGracefully(30)).as("exit code").isZero();
      Matcher nmt = NMT_TOTAL.matcher(fn.getLogs());
      assertThat(nmt.find()).as("NMT summary at exit").isTrue();
      long unit = nmt.group(2) == null ? 1 : switch (nmt.group(2)) {
        case "KB" -> 1L << 10;
        case "MB" -> 1L << 20;
        default -> 1L << 30;
      };
      long nmtMiB = Long.parseLong(nmt.group(1)) * unit >> 20;
      System.out.printf("[container] %s s of load: %d of %d answered 200; cgroup peak %d MiB, JVM RSS high-water %d MiB,"
          + " NMT committed at exit %d MiB, of a %d MiB limit%n", SECONDS, LoadTester.ok(report), LoadTester.sent(report),
          peakMiB, rssHighWaterMiB, nmtMiB, FunctionContainer.MEMORY_LIMIT >> 20);
      assertThat(LoadTester.sent(report)).isPositive();
      assertThat(LoadTester.ok(report)).as("answered 200").isEqualTo(LoadTester.sent(report));
      assertThat(nmtMiB).isPositive();
      assertThat(peakMiB).isPositive().isLessThan(FunctionContainer.MEMORY_LIMIT >> 20);
    }
  }
}
