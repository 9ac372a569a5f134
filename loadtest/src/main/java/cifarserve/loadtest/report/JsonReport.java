package cifarserve.loadtest.report;

import cifarserve.loadtest.generator.Outcome;
import cifarserve.loadtest.generator.RunRecorder;
import cifarserve.loadtest.resources.PhaseResources;
import cifarserve.loadtest.resources.ResourceSample;
import cifarserve.loadtest.run.LoadTestSettings;
import cifarserve.loadtest.run.RunResult;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** The machine-readable result ({@code --json FILE}): settings, counts, percentiles, resources, timeline. */
public final class JsonReport {
  private JsonReport() {
  }

  public static void write(RunResult r, Path file) throws IOException {
    Files.writeString(file, toJson(r).encodePrettily() + "\n", StandardCharsets.UTF_8);
  }

  public static JsonObject toJson(RunResult r) {
    LoadTestSettings s = r.settings();
    RunRecorder m = r.measured();
    JsonObject statusCounts = new JsonObject();
    for (Map.Entry<Integer, Long> e : m.statusCounts().entrySet()) {
      statusCounts.put(Integer.toString(e.getKey()), e.getValue());
    }
    JsonObject json = new JsonObject()
        .put("tool", "cifar-loadtest")
        .put("startedAt", r.startedAt().toString())
        .put("settings", new JsonObject()
            .put("url", s.request().url().toString())
            .put("method", s.request().method().name())
            .put("model", s.openModel() ? "open" : "closed")
            .put("connections", s.connections())
            .put("threads", s.threads())
            .put("requests", s.requestLimit() == Long.MAX_VALUE ? null : s.requestLimit())
            .put("durationSeconds", s.duration() == null ? null : s.duration().toMillis() / 1000.0)
            .put("ratePerSecond", s.openModel() ? s.rate() : null)
            .put("timeoutSeconds", s.request().timeoutMillis() / 1000.0)
            .put("keepAlive", s.request().keepAlive())
            .put("intervalSeconds", s.interval().toMillis() / 1000.0))
        .put("elapsedSeconds", r.elapsedSeconds())
        .put("throughputPerSecond", r.throughput())
        .put("generator", new JsonObject()
            .put("cpuSeconds", r.generatorCpuSeconds())
            .put("cpuPercentOfOneCore", r.generatorCpuPercent())
            .put("cpuMicrosPerRequest", r.generatorCpuMicrosPerRequest())
            .put("jitCompileSeconds", r.generatorJitSeconds())
            .put("transport", r.generatorTransport()))
        .put("requests", new JsonObject()
            .put("sent", m.sent())
            .put("completed", m.finished())
            .put("answered", m.answered())
            .put("successful", m.count(Outcome.SUCCESS))
            .put("failed", m.failures())
            .put("failurePercent", r.failurePercent())
            .put("timeouts", m.count(Outcome.TIMEOUT))
            .put("connectionErrors", m.count(Outcome.CONNECTION_ERROR))
            .put("non2xx", m.count(Outcome.NON_2XX))
            .put("otherFailures", m.count(Outcome.OTHER))
            .put("notSent", m.notSent())
            .put("warmupExcluded", r.warmupFinished())
            .put("statusCodes", statusCounts))
        .put("bytes", new JsonObject()
            .put("bodyReceived", m.bodyBytes())
            .put("bodySent", m.sentBytes())
            .put("bodyLengthMin", m.minBodyLength())
            .put("bodyLengthMax", m.maxBodyLength()))
        // Open model: from the intended send time (coordinated omission corrected). Closed: same as uncorrected.
        .put("latencyMs", LatencyStats.of(m.corrected()).toJson())
        .put("latencyUncorrectedMs", LatencyStats.of(m.uncorrected()).toJson());
    if (m.accuracyEvaluated() > 0 || m.accuracyUnreadable() > 0) {
      json.put("accuracy", new JsonObject()
          .put("evaluated", m.accuracyEvaluated())
          .put("correct", m.accuracyCorrect())
          .put("unreadable", m.accuracyUnreadable())
          .put("percent", 100.0 * m.accuracyCorrect() / Math.max(1, m.accuracyEvaluated())));
    }
    if (r.resourceTarget() != null) {
      JsonObject phases = new JsonObject();
      for (PhaseResources p : r.resourcesByPhase().values()) {
        phases.put(p.phase(), new JsonObject()
            .put("samples", p.samples())
            .put("cpuPercent", new JsonObject().put("avg", p.cpuAvg()).put("peak", p.cpuPeak()))
            .put("memoryBytes", new JsonObject().put("avg", p.memoryAvg()).put("peak", p.memoryPeak()))
            .put("heapBytes", new JsonObject().put("avg", p.heapAvg()).put("peak", p.heapPeak())));
      }
      JsonArray samples = new JsonArray();
      for (ResourceSample sample : r.resourceSamples()) {
        samples.add(new JsonObject()
            .put("t", r.secondsOnTimeline(sample.nanoTime()))
            .put("phase", sample.phase())
            .put("cpuPercent", sample.cpuPercent())
            .put("memoryBytes", sample.memoryBytes())
            .put("heapBytes", sample.heapBytes()));
      }
      json.put("resources", new JsonObject()
          .put("target", r.resourceTarget())
          .put("cpuUnit", "percent of one core")
          .put("sampleIntervalSeconds", s.sampleInterval().toMillis() / 1000.0)
          .put("readFailures", r.resourceReadFailures())
          .put("phases", phases)
          .put("samples", samples));
    }
    JsonArray timeline = new JsonArray();
    for (Timeline.Row row : Timeline.rows(r)) {
      timeline.add(new JsonObject()
          .put("t", row.startSeconds())
          .put("phase", row.phase())
          .put("responses", row.responses())
          .put("failures", row.failures())
          .put("throughput", row.throughput())
          .put("latencyP50Ms", finite(row.latencyP50()))
          .put("latencyP99Ms", finite(row.latencyP99()))
          .put("latencyMaxMs", finite(row.latencyMax()))
          .put("cpuPercent", row.cpuPercent())
          .put("memoryBytes", row.memoryBytes())
          .put("heapBytes", row.heapBytes()));
    }
    json.put("timeline", timeline);
    return json;
  }

  private static Double finite(double v) {
    return Double.isNaN(v) ? null : v;
  }
}
