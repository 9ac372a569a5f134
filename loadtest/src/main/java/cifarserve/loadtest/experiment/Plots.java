package cifarserve.loadtest.experiment;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The report's PNG plots (XChart, headless). */
final class Plots {
  private static final String[] PERCENTILE_KEYS = {"min", "p50", "p90", "p95", "p99", "p99.9", "max"};
  private static final double[] PERCENTILES = {0, 50, 90, 95, 99, 99.9, 100};

  private Plots() {
  }

  static void writeAll(Path dir, Results r, BreakEven be) throws IOException {
    latencyCdf(dir.resolve("latency-cdf.png"), r);
    resources(dir.resolve("resources.png"), r);
    phases(dir.resolve("cold-start-phases.png"), r);
    breakEven(dir.resolve("break-even.png"), be);
  }

  private static XYChart xy(String title, String x, String y) {
    XYChart c = new XYChartBuilder().width(900).height(500).title(title).xAxisTitle(x).yAxisTitle(y).build();
    c.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
    return c;
  }

  /** CDF points from the HdrHistogram percentiles of the closed and open runs of repetition 1. */
  static void latencyCdf(Path file, Results r) throws IOException {
    XYChart c = xy("Latency CDF (closed c=4 and open at 70 % capacity, classification)", "latency (ms)", "fraction of requests");
    for (String d : Results.DEPLOYMENTS) {
      for (String run : List.of("closed", "open")) {
        JsonObject json = r.keptRun(d, run);
        if (json == null) {
          continue;
        }
        JsonObject lat = json.getJsonObject("latencyMs");
        List<Double> xs = new ArrayList<>();
        List<Double> ys = new ArrayList<>();
        for (int i = 0; i < PERCENTILE_KEYS.length; i++) {
          Double v = lat.getDouble(PERCENTILE_KEYS[i]);
          if (v != null) {
            xs.add(v);
            ys.add(PERCENTILES[i] / 100);
          }
        }
        if (!xs.isEmpty()) {
          c.addSeries(d + " " + run, xs, ys);
        }
      }
    }
    save(c, file);
  }

  /** CPU (% of 2 CPUs) and memory (MiB) over the closed run's timeline: idle window, then load. */
  static void resources(Path file, Results r) throws IOException {
    XYChart c = xy("CPU and memory of the containers' cgroups over the closed run (idle, then busy)",
        "seconds (0 = start of measured load)", "CPU % of 2 CPUs  /  memory MiB ÷ 10");
    for (String d : Results.DEPLOYMENTS) {
      JsonObject json = r.keptRun(d, "closed");
      if (json == null || json.getJsonObject("resources") == null) {
        continue;
      }
      JsonArray samples = json.getJsonObject("resources").getJsonArray("samples");
      List<Double> t = new ArrayList<>();
      List<Double> cpu = new ArrayList<>();
      List<Double> tm = new ArrayList<>();
      List<Double> mem = new ArrayList<>();
      for (int i = 0; i < samples.size(); i++) {
        JsonObject s = samples.getJsonObject(i);
        if (s.getDouble("cpuPercent") != null) {
          t.add(s.getDouble("t"));
          cpu.add(s.getDouble("cpuPercent") / Deployment.CPU_COUNT);
        }
        if (s.getValue("memoryBytes") != null) {
          tm.add(s.getDouble("t"));
          mem.add(s.getDouble("memoryBytes") / 1048576.0 / 10);
        }
      }
      if (!t.isEmpty()) {
        c.addSeries(d + " CPU %", t, cpu).setMarker(SeriesMarkers.NONE);
      }
      if (!tm.isEmpty()) {
        c.addSeries(d + " memory MiB/10", tm, mem).setMarker(SeriesMarkers.NONE);
      }
    }
    save(c, file);
  }

  /** Median start-up phases as deployed, stacked per deployment (each bar: time spent in that phase). */
  static void phases(Path file, Results r) throws IOException {
    CategoryChart c = new CategoryChartBuilder().width(900).height(500).title("Start-up as deployed: phases (median)")
        .xAxisTitle("deployment").yAxisTitle("seconds").build();
    c.getStyler().setStacked(true);
    String[] phases = {"containerCreate", "containerStart", "processStart", "main", "httpLive", "modelLoaded", "firstAnswer"};
    List<String> names = List.copyOf(Results.DEPLOYMENTS);
    for (int i = 0; i < phases.length; i++) {
      List<Double> spans = new ArrayList<>();
      for (String d : names) {
        double end = Report.value(r.spread(d, "phase." + phases[i]));
        double begin = i == 0 ? 0 : Report.value(r.spread(d, "phase." + phases[i - 1]));
        spans.add(Double.isNaN(end - begin) ? 0 : Math.max(0, end - begin));
      }
      c.addSeries(phases[i], names, spans);
    }
    save(c, file);
  }

  static void breakEven(Path file, BreakEven be) throws IOException {
    XYChart c = xy("Break-even: CPU-seconds per hour vs request rate", "requests per second (log)", "CPU-seconds per hour");
    c.getStyler().setXAxisLogarithmic(true);
    List<Double> rates = new ArrayList<>();
    List<Double> fn = new ArrayList<>();
    List<Double> node = new ArrayList<>();
    for (int i = 0; i <= 120; i++) {
      double rate = 1e-4 * Math.pow(1e6, i / 120.0);
      rates.add(rate);
      fn.add(finite(be.functionCpuSecondsPerHour(rate)));
      node.add(finite(be.alwaysOnCpuSecondsPerHour(rate)));
    }
    c.addSeries("function (scale to zero, zero-duration " + (long) be.zeroDurationS() + " s)", rates, fn).setMarker(SeriesMarkers.NONE);
    c.addSeries("always-on node", rates, node).setMarker(SeriesMarkers.NONE);
    double crossing = be.cpuCrossing(1e-4, 100);
    if (Double.isFinite(crossing)) {
      c.addSeries(String.format(java.util.Locale.ROOT, "crossing: %.3g requests/s", crossing), List.of(crossing),
          List.of(be.alwaysOnCpuSecondsPerHour(crossing))).setMarker(SeriesMarkers.DIAMOND);
    }
    save(c, file);
  }

  private static double finite(double v) {
    return Double.isFinite(v) ? v : 0;
  }

  private static void save(Object chart, Path file) throws IOException {
    if (chart instanceof XYChart xy && xy.getSeriesMap().isEmpty()) {
      xy.addSeries("no data", List.of(0.0), List.of(0.0));
    }
    BitmapEncoder.saveBitmap((org.knowm.xchart.internal.chartpart.Chart<?, ?>) chart, file.toString(), BitmapEncoder.BitmapFormat.PNG);
  }
}
