package cifarserve.loadtest.report;

import cifarserve.loadtest.generator.Outcome;
import cifarserve.loadtest.generator.RunRecorder;
import cifarserve.loadtest.resources.PhaseResources;
import cifarserve.loadtest.run.LoadTestSettings;
import cifarserve.loadtest.run.RunResult;
import java.io.PrintWriter;
import java.net.URI;
import java.util.Locale;
import java.util.Map;

/** The stdout summary, laid out like ApacheBench's so existing habits (and greps) keep working. */
public final class TextSummary {
  private TextSummary() {
  }

  public static void print(RunResult r, PrintWriter out) {
    LoadTestSettings s = r.settings();
    RunRecorder m = r.measured();
    URI url = s.request().url();
    int port = s.request().port();
    String path = s.request().requestTarget();
    double elapsed = r.elapsedSeconds();
    LatencyStats lat = LatencyStats.of(m.corrected());
    LatencyStats raw = LatencyStats.of(m.uncorrected());

    out.println("This is cifar-loadtest, an ab-compatible load generator on Vert.x (non-blocking)");
    out.println();
    line(out, "Server Hostname:", url.getHost());
    line(out, "Server Port:", Integer.toString(port));
    out.println();
    line(out, "Document Path:", path);
    if (m.minBodyLength() == m.maxBodyLength()) {
      line(out, "Document Length:", m.maxBodyLength() + " bytes");
    } else {
      line(out, "Document Length:", "varies, " + m.minBodyLength() + " to " + m.maxBodyLength()
          + " bytes (not counted as failures)");
    }
    out.println();
    line(out, "Load model:", s.openModel()
        ? f("open, %.1f requests/s intended (latency from intended send time, wrk2-style)", s.rate())
        : "closed (each connection sends when its previous answer arrived)");
    line(out, "Concurrency Level:", Integer.toString(s.connections()));
    line(out, "Time taken for tests:", f("%.3f seconds", elapsed));
    line(out, "Complete requests:", Long.toString(m.finished()));
    line(out, "Failed requests:", Long.toString(m.failures()));
    out.println(f("   (Timeouts: %d, Connection errors: %d, Non-2xx: %d, Other: %d)", m.count(Outcome.TIMEOUT),
        m.count(Outcome.CONNECTION_ERROR), m.count(Outcome.NON_2XX), m.count(Outcome.OTHER)));
    if (s.openModel()) {
      line(out, "Arrivals not sent:", m.notSent() + " (due, but every connection was busy when the run ended)");
    }
    if (r.warmupFinished() > 0) {
      line(out, "Warm-up requests:", r.warmupFinished() + " (excluded from all figures)");
    }
    line(out, "Keep-Alive:", s.request().keepAlive() ? "yes" : "no");
    line(out, "Body bytes received:", m.bodyBytes() + " bytes");
    line(out, "Body bytes sent:", m.sentBytes() + " bytes");
    line(out, "Requests per second:", f("%.2f [#/sec] (mean)", r.throughput()));
    line(out, "Time per request:", f("%.3f [ms] (mean)", s.connections() * elapsed * 1000 / Math.max(1, m.finished())));
    line(out, "Time per request:",
        f("%.3f [ms] (mean, across all concurrent requests)", elapsed * 1000 / Math.max(1, m.finished())));
    line(out, "Transfer rate:", f("%.2f [Kbytes/sec] received", m.bodyBytes() / 1024.0 / elapsed));
    line(out, "Generator CPU:", f("%.1f %% of one core, %.0f us per request over %s (this tool; ~100 %% per --threads = it sets the pace)",
        r.generatorCpuPercent(), r.generatorCpuMicrosPerRequest(), r.generatorTransport()));
    if (r.generatorJitSeconds() >= 0.05 * Math.max(0.001, r.generatorCpuSeconds())) {
      line(out, "Generator JIT:", f("%.2f s compiling during the measured phase (still warming up: a longer --warmup lowers the generator's CPU)",
          r.generatorJitSeconds()));
    }
    out.println();
    StringBuilder codes = new StringBuilder();
    for (Map.Entry<Integer, Long> e : m.statusCounts().entrySet()) {
      codes.append(codes.length() == 0 ? "" : ", ").append(e.getKey()).append(": ").append(e.getValue());
    }
    line(out, "Status codes:", codes.length() == 0 ? "(no answers)" : codes.toString());
    if (m.accuracyEvaluated() > 0 || m.accuracyUnreadable() > 0) {
      line(out, "Accuracy under load:", f("%.2f %% (%d of %d answers right; %d unreadable)",
          100.0 * m.accuracyCorrect() / Math.max(1, m.accuracyEvaluated()), m.accuracyCorrect(),
          m.accuracyEvaluated(), m.accuracyUnreadable()));
    }
    out.println();
    out.println("Latency (ms)   min   mean[+/-sd]   median     max");
    out.println(f("Total:    %7.2f %7.2f %6.2f %8.2f %8.2f", lat.min(), lat.mean(), lat.stdev(), lat.p50(), lat.max()));
    if (s.openModel()) {
      out.println(f("Uncorr.:  %7.2f %7.2f %6.2f %8.2f %8.2f   (from actual send time)", raw.min(), raw.mean(),
          raw.stdev(), raw.p50(), raw.max()));
    }
    out.println();
    out.println("Percentage of the requests served within a certain time (ms)"
        + (s.openModel() ? ", corrected / uncorrected" : ""));
    double[] ps = {50, 90, 95, 99, 99.9};
    double[] corrected = {lat.p50(), lat.p90(), lat.p95(), lat.p99(), lat.p999()};
    double[] uncorrected = {raw.p50(), raw.p90(), raw.p95(), raw.p99(), raw.p999()};
    for (int i = 0; i < ps.length; i++) {
      String label = ps[i] == Math.rint(ps[i]) ? f("%.0f%%", ps[i]) : f("%.1f%%", ps[i]);
      out.println(s.openModel() ? f("  %6s %9.2f %9.2f", label, corrected[i], uncorrected[i])
          : f("  %6s %9.2f", label, corrected[i]));
    }
    out.println(s.openModel() ? f("  %6s %9.2f %9.2f (longest request)", "100%", lat.max(), raw.max())
        : f("  %6s %9.2f (longest request)", "100%", lat.max()));

    Map<String, PhaseResources> phases = r.resourcesByPhase();
    if (!phases.isEmpty()) {
      out.println();
      out.println("Target resources (" + r.resourceTarget() + "), sampled every " + s.sampleInterval().toMillis()
          + " ms; CPU 100 % = one core");
      out.println("  phase   samples   CPU avg   CPU peak   memory avg   memory peak   heap avg   heap peak");
      for (PhaseResources p : phases.values()) {
        out.println(f("  %-7s %7d %8s %10s %12s %13s %10s %11s", p.phase(), p.samples(), pctOrDash(p.cpuAvg()),
            pctOrDash(p.cpuPeak()), mib(p.memoryAvg()), mib(p.memoryPeak()), mib(p.heapAvg()), mib(p.heapPeak())));
      }
      if (r.resourceReadFailures() > 0) {
        out.println("  (" + r.resourceReadFailures() + " failed reads; last: " + r.resourceLastFailure() + ")");
      }
    }
    out.flush();
  }

  private static void line(PrintWriter out, String label, String value) {
    out.println(f("%-24s%s", label, value));
  }

  static String f(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  private static String pctOrDash(Double v) {
    return v == null ? "-" : f("%.1f%%", v);
  }

  private static String mib(Number bytes) {
    return bytes == null ? "-" : f("%.1f MiB", bytes.doubleValue() / (1024 * 1024));
  }
}
