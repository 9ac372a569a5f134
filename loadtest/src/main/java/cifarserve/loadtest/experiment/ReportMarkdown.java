package cifarserve.loadtest.experiment;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** DIR/report.md: the study's published table beside ours, what holds of its four conclusions, and how it was measured. */
final class ReportMarkdown {
  private ReportMarkdown() {
  }

  static void write(Path file, Results r, ExperimentSettings s, JsonObject report) throws IOException {
    StringBuilder md = new StringBuilder();
    md.append("# Serverless function vs always-on node: the study's comparison, measured here\n\n");
    md.append("Command: `").append(s.command()).append("`  \nStarted: ").append(report.getString("startedAt"))
        .append("  \nMachine: ").append(report.getJsonObject("machine").encode()).append("  \nRepetitions: ")
        .append(s.repeat()).append(s.quick() ? " (--quick: short runs, small training budget)" : "").append("\n\n");
    md.append("Both deployments ran in containers under the same cgroup limits (`--cpus 2 --memory 4g`, a t3.medium),"
        + " one after the other on this host. Figures are median (min–max) over the repetitions.\n\n");
    md.append("| | study: function (published) | study: Flask on EC2 (published) | here: function | here: always-on node |\n");
    md.append("|---|---|---|---|---|\n");
    row(md, r, "startup from nothing (s)", "78.3", "844.46", "startupFromNothingS", "%.1f");
    row(md, r, "test accuracy of that model (%)", "–", "–", "fromNothingAccuracyPct", "%.2f");
    row(md, r, "startup as deployed, to first answer (s)", "–", "–", "startupAsDeployedS", "%.2f");
    row(md, r, "mean response, `-n 10 -c 2 -s 300`, classify (ms)", "4,600", "28,800", "responseMsStudyLine", "%.1f");
    row(md, r, "mean response, same line, `GET /` (ms)", "–", "–", "responseMsStudyLineGet", "%.1f");
    row(md, r, "idle CPU (% of 2 CPUs)", "0.16", "4.9", "idleCpuPct", "%.2f");
    row(md, r, "idle memory (% of 4 GiB)", "0.34", "26.6", "idleMemPct", "%.2f");
    row(md, r, "busy CPU (% of 2 CPUs)", "15.41", "99.9", "busyCpuPct", "%.1f");
    row(md, r, "busy memory (% of 4 GiB)", "8.06", "26.49", "busyMemPct", "%.2f");
    row(md, r, "idle memory (MiB, cgroup)", "–", "–", "idleRssMiB", "%.0f");
    row(md, r, "busy memory (MiB, cgroup)", "–", "–", "busyRssMiB", "%.0f");
    row(md, r, "idle CPU (CPU-s/s)", "–", "–", "idleCpuSPerS", "%.4f");
    row(md, r, "busy CPU (CPU-s/s)", "–", "–", "busyCpuSPerS", "%.3f");
    row(md, r, "capacity, closed run c=4 (requests/s)", "–", "–", "capacityPerS", "%.1f");
    row(md, r, "p99, closed run (ms)", "–", "–", "closedP99Ms", "%.1f");
    row(md, r, "p99, open run at 70 % of capacity (ms)", "–", "–", "openP99Ms", "%.1f");
    md.append(String.format(Locale.ROOT, "| function, scaled to zero: CPU (%% of 2 CPUs) | – | – | %s | – |%n",
        r.spread("function", "scaledToZeroCpuPct").format("%.2f")));
    md.append(String.format(Locale.ROOT, "| function, first request at zero, start included (ms) | – | – | %s | – |%n",
        r.spread("function", "coldRequestMs").format("%.0f")));
    md.append(String.format(Locale.ROOT, "| function, study line from zero (ms) | – | – | %s | – |%n%n",
        r.spread("function", "responseMsStudyLineCold").format("%.1f")));
    md.append("The study's function figures came from a 32-vCPU desktop and were also published \"normalized\" (multiplied"
        + " by 16 = 32/2 vCPUs, as if time scaled inversely with cores). That column is dropped: here both sides ran"
        + " under the same 2-CPU / 4-GiB limits, so nothing needs scaling.\n\n");
    md.append("**The function's startup from nothing** is the sum of three measured parts: the same training run as the"
        + " node's (").append(r.spread("function", "trainingS").format("%.1f")).append(" s), packaging (here the image's `docker load`, ")
        .append(r.spread("function", "packagingS").format("%.1f")).append(" s; building the image with openfaas/build-image.sh is not"
        + " repeated per repetition) and its cold start (").append(r.spread("function", "startupAsDeployedS").format("%.2f")).append(" s).\n\n");
    md.append("Start-up phases as deployed (seconds from `docker create`, median):\n\n| phase | function | always-on node |\n|---|---|---|\n");
    for (String phase : new String[] {"containerCreate", "containerStart", "processStart", "main", "httpLive", "modelLoaded", "firstAnswer"}) {
      md.append("| ").append(phase).append(" | ").append(r.spread("function", "phase." + phase).format("%.2f")).append(" | ")
          .append(r.spread("alwaysOn", "phase." + phase).format("%.2f")).append(" |\n");
    }
    md.append("\n`processStart` and `main` are the service's own marks, logged once it listens (epoch ms of the"
        + " JVM's start and of its main's first statement; same host clock): `containerStart` to `processStart` is"
        + " the runtime's exec, `processStart` to `main` the JVM's own start-up."
        + " `httpLive` is the first 200 from `/v2/health/live` (Vert.x and the HTTP server listening);"
        + " `modelLoaded` the first 200 from `/v2/health/ready`; `firstAnswer` the first 200 with a label for a real"
        + " CIFAR-10 test image.\n\n");
    conclusions(md, r);
    JsonObject be = report.getJsonObject("breakEven");
    md.append("## Break-even\n\n![break-even](break-even.png)\n\nResource use per hour against request rate (Poisson"
        + " arrivals), from the measured idle cost, CPU per request, cold-start cost and zero-duration = ")
        .append(s.zeroDurationSeconds()).append(" s. CPU crossing: ").append(rate(be.getDouble("cpuCrossingRequestsPerS")))
        .append("; memory crossing: ").append(rate(be.getDouble("memoryCrossingRequestsPerS"))).append(". The crossing is the"
        + " lowest rate at which the function costs as much as the node; the function's curve is not monotonic (cold"
        + " starts peak near 1/zero-duration, then it stays warm), so read the plot for higher rates.\n\n");
    if (be.getDouble("cpuCrossingRequestsPerS") == null && be.getDouble("memoryCrossingRequestsPerS") == null) {
      md.append(String.format(Locale.ROOT, "No crossing means the function is the cheaper deployment at every rate in"
          + " that range: warm and idle it costs %.4f CPU-s/s and %.0f MiB against the node's %.4f CPU-s/s and %.0f MiB,"
          + " a request costs both the same CPU (the mean of the two measured per-request costs), and at no rate do its"
          + " cold starts plus its warm idle time add up to the node's idle cost. With costs like these it would cross"
          + " only if its warm idle cost exceeded the node's.%n%n", Report.value(r.spread("function", "idleCpuSPerS")), Report.value(r.spread("function", "idleRssMiB")),
          Report.value(r.spread("alwaysOn", "idleCpuSPerS")), Report.value(r.spread("alwaysOn", "idleRssMiB"))));
    }
    md.append("## Cross-check with Apache ab (same line, first repetition)\n\nOn a server the closed run has warmed,"
        + " ab and cifar-loadtest in alternating order, three pairs of the study's line (-n 10 -c 2, a new connection per"
        + " request) and three pairs of the same line with " + ExperimentRun.CROSS_CHECK_LONG_REQUESTS + " requests;"
        + " medians (min-max). Latency mean: the mean of the per-request times (ab's \"Connection Times\" Total row,"
        + " whole ms). Time per request: concurrency x wall time / requests, the figure ab prints as \"Time per request"
        + " (mean)\" and the study quoted. Ten requests timed in whole ms cannot show agreement; the longer line is the"
        + " check: the tools agree when their latency means differ by at most " + CROSS_CHECK_TOLERANCE_MS + " ms or "
        + Math.round(CROSS_CHECK_TOLERANCE * 100) + " %.\n\n"
        + "| | requests | ab latency mean (ms) | cifar-loadtest latency mean (ms) | ab / cifar-loadtest | ab time per"
        + " request (ms) | cifar-loadtest time per request (ms) | agree |\n|---|---|---|---|---|---|---|---|\n");
    for (String d : Results.DEPLOYMENTS) {
      crossCheckRow(md, r, d, LoadRuns.STUDY_REQUESTS, "", "(too few)");
      double ab = Report.value(r.spread(d, "abLongMeanMs"));
      double ours = Report.value(r.spread(d, "loadtestLongMeanMs"));
      crossCheckRow(md, r, d, ExperimentRun.CROSS_CHECK_LONG_REQUESTS, "Long", agree(ab, ours) ? "yes" : "**no**");
    }
    md.append("\n## How it was measured\n\n");
    md.append("- **Scale to zero is emulated.** OpenFaaS Pro's gateway is not available here; a small Vert.x proxy in"
        + " cifar-loadtest (`ScaleToZeroProxy`, on 127.0.0.1) plays its documented part: zero replicas at first; a request"
        + " at zero starts the function's container, is held until `/_/ready` answers 200, then forwarded; after"
        + " zero-duration without traffic the container is removed. At zero no container exists, so its CPU and memory"
        + " are 0 (checked with `docker ps`, not assumed).\n");
    md.append("- CPU and memory come from the containers' cgroups (cpu.stat, memory.current; memory includes the page"
        + " cache of /tmp), sampled every 250 ms on the same timeline as the load by cifar-loadtest's cgroup probe.\n");
    md.append("- Idle: the window before the closed run; busy: its measured phase (c=4, keep-alive, rotating real CIFAR-10"
        + " test images as PNG). The open run sends at 70 % of the capacity that closed run measured.\n");
    md.append("- The always-on node runs as ec2/ runs it: conf/ec2.json, `serve --cluster` (a one-member Hazelcast"
        + " cluster, TCP-IP join on 127.0.0.1, multicast and auto-detection off), the JVM flags of ec2/cifar-serve.service;"
        + " its image is built offline like the function's (ec2/build-node-image.sh).\n");
    md.append("- Training budget for startup from nothing: ").append(s.trainLimit()).append(" training images, ")
        .append(ExperimentSettings.epochsText(s.epochs())).append(" epoch(s), evaluated on ").append(s.testLimit()).append(" test images.\n\n");
    md.append("Plots: latency-cdf.png, resources.png, cold-start-phases.png, break-even.png. Raw runs: runs/.\n");
    Files.writeString(file, md.toString());
  }

  private static String rate(Double perSecond) {
    return perSecond == null ? "none in 10⁻⁶–10³ requests/s"
        : String.format(Locale.ROOT, "%.4g requests/s (%.1f per hour)", perSecond, perSecond * 3600);
  }

  private static void row(StringBuilder md, Results r, String label, String studyFn, String studyFlask, String key, String fmt) {
    md.append("| ").append(label).append(" | ").append(studyFn).append(" | ").append(studyFlask).append(" | ")
        .append(r.spread("function", key).format(fmt)).append(" | ").append(r.spread("alwaysOn", key).format(fmt)).append(" |\n");
  }

  private static void conclusions(StringBuilder md, Results r) {
    md.append("## The study's four conclusions, here\n\n");
    verdict(md, r, "1. The function starts faster (78.3 s vs 844.46 s from nothing).", "startupFromNothingS", "s");
    verdict(md, r, "1. (as deployed, model already trained: container create to first answer)", "startupAsDeployedS", "s");
    verdict(md, r, "2. The function answers faster (4.6 s vs 28.8 s mean on the study's line).", "responseMsStudyLine", "ms");
    verdict(md, r, "3. The function costs less idle (CPU 0.16 % vs 4.9 %; memory 0.34 % vs 26.6 %): CPU.", "idleCpuPct", "%");
    verdict(md, r, "3. (memory)", "idleMemPct", "%");
    verdict(md, r, "4. The function uses less busy (CPU 15.41 % vs 99.9 %; memory 8.06 % vs 26.49 %): CPU.", "busyCpuPct", "%");
    verdict(md, r, "4. (memory)", "busyMemPct", "%");
    md.append("\n");
  }

  private static void verdict(StringBuilder md, Results r, String claim, String key, String unit) {
    Spread fn = r.spread("function", key);
    Spread node = r.spread("alwaysOn", key);
    String outcome;
    if (!fn.filled() || !node.filled()) {
      outcome = "not measured";
    } else {
      boolean lower = fn.median() < node.median();
      boolean separated = fn.max() < node.min() || node.max() < fn.min();
      outcome = (lower ? "**holds**" : "**does not hold**") + (separated ? "" : " (the ranges overlap: not a clear difference)")
          + String.format(Locale.ROOT, ": function %.3g %s vs node %.3g %s (ratio %.2f)", fn.median(), unit, node.median(), unit,
          node.median() == 0 ? Double.NaN : fn.median() / node.median());
    }
    md.append("- ").append(claim).append(" ").append(outcome).append("\n");
  }

  /** How far ab's and cifar-loadtest's latency means on the long cross-check line may differ and still agree. */
  static final double CROSS_CHECK_TOLERANCE_MS = 1.0;
  static final double CROSS_CHECK_TOLERANCE = 0.15;

  static boolean agree(double abMs, double oursMs) {
    double difference = Math.abs(abMs - oursMs);
    return difference <= CROSS_CHECK_TOLERANCE_MS || difference <= CROSS_CHECK_TOLERANCE * Math.max(abMs, oursMs);
  }

  private static void crossCheckRow(StringBuilder md, Results r, String d, int requests, String keySuffix, String agree) {
    md.append("| ").append(d).append(" | ").append(requests).append(" | ")
        .append(r.spread(d, "ab" + keySuffix + "MeanMs").format("%.1f")).append(" | ")
        .append(r.spread(d, "loadtest" + keySuffix + "MeanMs").format("%.1f")).append(String.format(Locale.ROOT, " | %.2f | ",
            Report.value(r.spread(d, "ab" + keySuffix + "MeanMs")) / Report.value(r.spread(d, "loadtest" + keySuffix + "MeanMs"))))
        .append(r.spread(d, "ab" + keySuffix + "TimePerRequestMs").format("%.1f")).append(" | ")
        .append(r.spread(d, "loadtest" + keySuffix + "TimePerRequestMs").format("%.1f")).append(" | ").append(agree).append(" |\n");
  }
}
