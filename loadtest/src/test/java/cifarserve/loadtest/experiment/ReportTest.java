package cifarserve.loadtest.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Tag;

@Tag("unit")
class ReportTest {
  private static ExperimentSettings settings(Path out) {
    return new ExperimentSettings(out, 2, true, "f", out, "n", out, out, new byte[0], out, 2000, 1000, 1, 10, 8, 8, 5, 60,
        true, "java -jar loadtest/target/cifar-loadtest.jar experiment --out x --quick");
  }

  private static Results filled() {
    Results r = new Results();
    for (String d : Results.DEPLOYMENTS) {
      for (double v : new double[] {1, 2}) {
        for (String key : Report.COMMON_KEYS) {
          r.add(d, key, v);
        }
        r.add(d, "idleCpuSPerS", 0.01 * v);
        r.add(d, "busyCpuSPerS", 1.5);
        r.add(d, "capacityPerS", 100.0);
        r.add(d, "coldStartCpuS", 5.0);
        r.add(d, "coldStartMiB", 300.0);
      }
    }
    r.add("function", "coldRequestMs", 2500.0);
    r.add("function", "scaledToZeroCpuPct", 0.0);
    return r;
  }

  @Test
  void reportHasTheIssuesKeysEachWithMedianMinMax(@TempDir Path dir) throws Exception {
    JsonObject report = Report.json(filled(), settings(dir), "2026-12-01T00:00:00Z", new JsonObject().put("cpus", 2));
    for (String d : new String[] {"function", "alwaysOn"}) {
      JsonObject figures = report.getJsonObject("deployments").getJsonObject(d);
      for (String key : Report.COMMON_KEYS) {
        assertThat(figures.getJsonObject(key).fieldNames()).contains("median", "min", "max");
      }
    }
    assertThat(report.getJsonObject("deployments").getJsonObject("function").getJsonObject("coldRequestMs").getDouble("median"))
        .isEqualTo(2500.0);
    assertThat(report.getJsonObject("deployments").getJsonObject("function").getJsonObject("scaledToZeroCpuPct").getDouble("max"))
        .isZero();
    assertThat(report.getInteger("repeat")).isEqualTo(2);
    assertThat(report.getString("command")).contains("experiment");
    assertThat(Report.missing(report)).isEmpty();
  }

  @Test
  void anEmptyCellIsReportedMissing(@TempDir Path dir) {
    Results r = filled();
    Results partial = new Results();
    r.all("alwaysOn").forEach((k, values) -> values.forEach(v -> partial.add("alwaysOn", k, v)));
    r.all("function").forEach((k, values) -> {
      if (!k.equals("coldRequestMs")) {
        values.forEach(v -> partial.add("function", k, v));
      }
    });
    partial.add("function", "busyMemPct", null);
    JsonObject report = Report.json(partial, settings(dir), "t", new JsonObject());
    assertThat(Report.missing(report)).containsExactly("function.coldRequestMs");
  }

  @Test
  void markdownHasThePublishedTableAndTheVerdicts(@TempDir Path dir) throws Exception {
    Results r = filled();
    JsonObject report = Report.json(r, settings(dir), "t", new JsonObject());
    ReportMarkdown.write(dir.resolve("report.md"), r, settings(dir), report);
    String md = Files.readString(dir.resolve("report.md"));
    assertThat(md).contains("844.46", "(published)", "normalized", "emulated", "## The study's four conclusions");
    Plots.writeAll(dir, r, Report.breakEven(r, 10));
    assertThat(dir.resolve("break-even.png")).isNotEmptyFile();
  }
}
