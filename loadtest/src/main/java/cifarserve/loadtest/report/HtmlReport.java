package cifarserve.loadtest.report;

import cifarserve.loadtest.generator.Outcome;
import cifarserve.loadtest.generator.RunRecorder;
import cifarserve.loadtest.resources.PhaseResources;
import cifarserve.loadtest.resources.ResourceSample;
import cifarserve.loadtest.run.RunResult;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramIterationValue;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * {@code --report DIR}: index.html with the key figures and XChart PNG plots (also written beside it),
 * embedded as data URIs so the page is a single self-contained file to attach or archive.
 */
public final class HtmlReport {
  private static final int WIDTH = 900;
  private static final int HEIGHT = 400;
  private static final long RENDER_TIMEOUT_SECONDS = 20;

  private HtmlReport() {
  }

  /** Writes the report; returns the PNG file names written. */
  public static List<String> write(RunResult r, Path dir) throws IOException {
    Files.createDirectories(dir);
    Map<String, XYChart> charts = charts(r);
    StringBuilder html = new StringBuilder();
    html.append("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>cifar-loadtest report</title>")
        .append("<style>body{font-family:sans-serif;max-width:960px;margin:auto}table{border-collapse:collapse}")
        .append("td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#eee}</style>")
        .append("</head><body>\n<h1>cifar-loadtest report</h1>\n");
    figures(r, html);
    List<String> files = new ArrayList<>();
    for (Map.Entry<String, XYChart> e : charts.entrySet()) {
      byte[] png = render(e.getValue());
      if (png == null) {
        html.append("<p>(plot '").append(escape(e.getValue().getTitle())).append("' could not be drawn in time)</p>\n");
        continue;
      }
      String name = e.getKey() + ".png";
      Files.write(dir.resolve(name), png);
      files.add(name);
      html.append("<h2>").append(escape(e.getValue().getTitle())).append("</h2>\n<img alt=\"")
          .append(escape(e.getValue().getTitle())).append("\" src=\"data:image/png;base64,")
          .append(Base64.getEncoder().encodeToString(png)).append("\">\n");
    }
    html.append("</body></html>\n");
    Files.writeString(dir.resolve("index.html"), html, StandardCharsets.UTF_8);
    return files;
  }

  /**
   * Draws one chart on a daemon thread, giving up after {@link #RENDER_TIMEOUT_SECONDS}: a plotting
   * library stuck on odd data must not hang the load test after the measurements are done.
   */
  private static byte[] render(XYChart chart) throws IOException {
    FutureTask<byte[]> task = new FutureTask<>(() -> BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
    Thread thread = new Thread(task, "report-plot");
    thread.setDaemon(true);
    thread.start();
    try {
      return task.get(RENDER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      task.cancel(true);
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    } catch (ExecutionException e) {
      throw new IOException("plotting failed: " + e.getCause(), e.getCause());
    }
  }

  private static void figures(RunResult r, StringBuilder html) {
    RunRecorder m = r.measured();
    LatencyStats lat = LatencyStats.of(m.corrected());
    html.append("<p>").append(escape(r.settings().request().method().name())).append(' ')
        .append(escape(r.settings().request().url().toString())).append(", ")
        .append(r.settings().openModel() ? f("open model at %.1f req/s", r.settings().rate()) : "closed model")
        .append(", ").append(r.settings().connections()).append(" connections, started ")
        .append(r.startedAt()).append("</p>\n<table><tr><th>requests</th><th>failed</th><th>timeouts</th>")
        .append("<th>conn. errors</th><th>non-2xx</th><th>req/s</th><th>min</th><th>mean</th><th>p50</th>")
        .append("<th>p90</th><th>p99</th><th>p99.9</th><th>max (ms)</th></tr>\n<tr>")
        .append(td(m.finished())).append(td(m.failures())).append(td(m.count(Outcome.TIMEOUT)))
        .append(td(m.count(Outcome.CONNECTION_ERROR))).append(td(m.count(Outcome.NON_2XX)))
        .append(td(f("%.1f", r.throughput()))).append(td(f("%.2f", lat.min()))).append(td(f("%.2f", lat.mean())))
        .append(td(f("%.2f", lat.p50()))).append(td(f("%.2f", lat.p90()))).append(td(f("%.2f", lat.p99())))
        .append(td(f("%.2f", lat.p999()))).append(td(f("%.2f", lat.max()))).append("</tr></table>\n");
    html.append("<p>Status codes: ").append(escape(m.statusCounts().toString())).append("</p>\n");
    Map<String, PhaseResources> phases = r.resourcesByPhase();
    if (!phases.isEmpty()) {
      html.append("<h2>Target resources (").append(escape(r.resourceTarget())).append(")</h2>\n")
          .append("<table><tr><th>phase</th><th>CPU avg</th><th>CPU peak</th><th>memory avg</th>")
          .append("<th>memory peak</th><th>heap avg</th><th>heap peak</th></tr>\n");
      for (PhaseResources p : phases.values()) {
        html.append("<tr><td>").append(p.phase()).append("</td>").append(td(pct(p.cpuAvg())))
            .append(td(pct(p.cpuPeak()))).append(td(mib(p.memoryAvg()))).append(td(mib(p.memoryPeak())))
            .append(td(mib(p.heapAvg()))).append(td(mib(p.heapPeak()))).append("</tr>\n");
      }
      html.append("</table><p>CPU: 100 % = one core.</p>\n");
    }
  }

  static Map<String, XYChart> charts(RunResult r) {
    Map<String, XYChart> charts = new LinkedHashMap<>();
    List<Timeline.Row> rows = Timeline.rows(r);

    XYChart latency = chart("Latency over time (per interval)", "seconds since start", "latency (ms)");
    addSeries(latency, "p50", rows, Timeline.Row::latencyP50);
    addSeries(latency, "p90", rows, Timeline.Row::latencyP90);
    addSeries(latency, "p99", rows, Timeline.Row::latencyP99);
    addSeries(latency, "max", rows, Timeline.Row::latencyMax);
    put(charts, "latency-over-time", latency);

    // No custom tick formatter: XChart 3.8.8's formatter path looped forever on some ranges here.
    XYChart percentiles = chart("Latency by percentile",
        "percentile as log10(1/(1-q)): 1 = 90 %, 2 = 99 %, 3 = 99.9 %, 4 = 99.99 %", "latency (ms)");
    boolean open = r.settings().openModel();
    percentileSeries(percentiles, open ? "corrected (from intended send)" : "latency", r.measured().corrected());
    if (open) {
      percentileSeries(percentiles, "uncorrected (from actual send)", r.measured().uncorrected());
    }
    put(charts, "latency-percentiles", percentiles);

    XYChart throughput = chart("Throughput over time", "seconds since start", "per second");
    addSeries(throughput, "answers/s", rows, Timeline.Row::throughput);
    addSeries(throughput, "failures/s", rows, row -> row.failures() / (row.endSeconds() - row.startSeconds()));
    put(charts, "throughput", throughput);

    List<ResourceSample> samples = r.resourceSamples();
    XYChart cpu = chart("Target CPU (100 % = one core)", "seconds since start", "CPU %");
    resourceSeries(cpu, "CPU %", r, samples, s -> s.cpuPercent());
    put(charts, "cpu", cpu);
    XYChart memory = chart("Target memory", "seconds since start", "MiB");
    resourceSeries(memory, "memory (RSS / cgroup)", r, samples,
        s -> s.memoryBytes() == null ? null : s.memoryBytes() / 1048576.0);
    resourceSeries(memory, "JVM heap", r, samples, s -> s.heapBytes() == null ? null : s.heapBytes() / 1048576.0);
    put(charts, "memory", memory);
    return charts;
  }

  private static XYChart chart(String title, String x, String y) {
    XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(x).yAxisTitle(y).build();
    chart.getStyler().setMarkerSize(4);
    return chart;
  }

  private static void put(Map<String, XYChart> charts, String name, XYChart chart) {
    if (!chart.getSeriesMap().isEmpty()) {
      charts.put(name, chart);
    }
  }

  private static void addSeries(XYChart chart, String name, List<Timeline.Row> rows,
      java.util.function.ToDoubleFunction<Timeline.Row> value) {
    List<Double> xs = new ArrayList<>();
    List<Double> ys = new ArrayList<>();
    for (Timeline.Row row : rows) {
      double y = value.applyAsDouble(row);
      if (row.startSeconds() >= 0 && !Double.isNaN(y) && !Double.isInfinite(y)) {
        xs.add(row.startSeconds());
        ys.add(y);
      }
    }
    if (!xs.isEmpty()) {
      chart.addSeries(name, xs, ys);
    }
  }

  private static void resourceSeries(XYChart chart, String name, RunResult r, List<ResourceSample> samples,
      java.util.function.Function<ResourceSample, Double> value) {
    List<Double> xs = new ArrayList<>();
    List<Double> ys = new ArrayList<>();
    for (ResourceSample s : samples) {
      Double y = value.apply(s);
      if (y != null) {
        xs.add(r.secondsOnTimeline(s.nanoTime()));
        ys.add(y);
      }
    }
    if (!xs.isEmpty()) {
      chart.addSeries(name, xs, ys);
    }
  }

  /** Plots latency against log10(1/(1-q)): equal room for 90 %, 99 %, 99.9 %... (the HdrHistogram plot). */
  private static void percentileSeries(XYChart chart, String name, Histogram h) {
    if (h.getTotalCount() == 0) {
      return;
    }
    List<Double> xs = new ArrayList<>();
    List<Double> ys = new ArrayList<>();
    for (HistogramIterationValue v : h.percentiles(5)) {
      double q = v.getPercentileLevelIteratedTo() / 100.0;
      if (q >= 1) {
        break;
      }
      xs.add(Math.log10(1 / (1 - q)));
      ys.add(v.getValueIteratedTo() / 1000.0);
    }
    if (!xs.isEmpty()) {
      XYSeries series = chart.addSeries(name, xs, ys);
      series.setMarker(SeriesMarkers.NONE);
    }
  }

  private static String td(Object v) {
    return "<td>" + escape(String.valueOf(v)) + "</td>";
  }

  private static String pct(Double v) {
    return v == null ? "-" : f("%.1f %%", v);
  }

  private static String mib(Number v) {
    return v == null ? "-" : f("%.1f MiB", v.doubleValue() / 1048576.0);
  }

  private static String f(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  private static String escape(String s) {
    return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
