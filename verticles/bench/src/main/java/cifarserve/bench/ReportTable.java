package cifarserve.bench;

import io.vertx.core.json.JsonObject;

/** The benchmark's JSON as a short human-readable table. */
public final class ReportTable {
  private ReportTable() {
  }

  public static String render(JsonObject report) {
    StringBuilder sb = new StringBuilder();
    JsonObject env = report.getJsonObject("environment");
    sb.append(String.format("%n%-46s %s%n", "cifar-serve bench" + (report.getBoolean("quick") ? " (quick)" : ""),
        env.getString("cpu") + ", " + env.getInteger("cores") + " cores"));
    sb.append(String.format("%-46s %s -> %s%n", "load average (1/5/15 min) start -> end",
        env.getJsonArray("loadAverageStart"), env.getJsonArray("loadAverageEnd")));
    sb.append(String.format("%-46s %s, %s, OMP_NUM_THREADS=%s%n", "JDK, ND4J classifier", env.getString("jdk"),
        env.getString("nd4jClassifier"), env.getString("OMP_NUM_THREADS")));
    sb.append("-".repeat(100)).append('\n');
    JsonObject training = report.getJsonObject("training");
    if (training != null) {
      row(sb, "training images/s (batch 64, median of runs)", String.format("%.1f  (runs %s; %.1f per CPU-second)",
          training.getDouble("imagesPerSecond"), training.getJsonArray("imagesPerSecondRuns"),
          training.getDouble("imagesPerCpuSecond")));
      row(sb, "  ms per iteration p50 / p99", String.format("%.0f / %.0f", training.getJsonObject("iterationMs").getDouble("p50Ms"),
          training.getJsonObject("iterationMs").getDouble("p99Ms")));
      row(sb, "  layer helpers", training.getJsonArray("layerHelpers").encode());
      JsonObject reference = training.getJsonObject("reference");
      row(sb, "  reference, same run", reference.getBoolean("available")
          ? String.format("%s: %.1f images/s (runs %s; DL4J %.2fx)", reference.getString("framework"),
              reference.getDouble("imagesPerSecond"), reference.getJsonArray("imagesPerSecondRuns"),
              training.getDouble("speedupOverReference"))
          : "not measured: " + reference.getString("reason"));
    }
    JsonObject inference = report.getJsonObject("inference");
    if (inference != null) {
      JsonObject single = inference.getJsonObject("singleImage");
      row(sb, "single-image latency p50 / p99 (in-process)", String.format("%.2f / %.2f ms  (%d samples, max %.1f ms)",
          single.getDouble("p50Ms"), single.getDouble("p99Ms"), single.getInteger("samples"), single.getDouble("maxMs")));
      JsonObject batched = inference.getJsonObject("batched");
      for (String size : batched.fieldNames()) {
        JsonObject b = batched.getJsonObject(size);
        row(sb, "batched inference images/s at batch " + size, String.format("%.1f  (%.2f ms per call)",
            b.getDouble("imagesPerSecond"), b.getDouble("msPerCall")));
      }
    }
    JsonObject cold = report.getJsonObject("coldStart");
    if (cold != null) {
      JsonObject p = cold.getJsonObject("phasesMedian");
      row(sb, "cold start (median of " + cold.getInteger("runs") + " fresh JVMs)", String.format(
          "%.0f ms total = spawn->main %.0f + engine ready %.0f + model load %.0f + first prediction %.0f",
          p.getDouble("totalMs"), p.getDouble("spawnToMainMs"), p.getDouble("backendReadyMs"),
          p.getDouble("modelRestoreMs"), p.getDouble("firstPredictionMs")));
      JsonObject c = cold.getJsonObject("cpuMsMedian");
      row(sb, "  CPU ms per phase (process, all threads)", String.format(
          "%.0f total = to main %.0f + engine %.0f + model load %.0f + first prediction %.0f", c.getDouble("totalMs"),
          c.getDouble("toMainMs"), c.getDouble("backendReadyMs"), c.getDouble("modelRestoreMs"),
          c.getDouble("firstPredictionMs")));
      row(sb, "  cold-start JVM", cold.getString("jdk") + " " + cold.getJsonArray("jvmArgs").encode());
    }
    JsonObject service = report.getJsonObject("serviceColdStart");
    if (service != null) {
      JsonObject p = service.getJsonObject("phasesMedian");
      row(sb, "service cold start (`serve`, median of " + service.getInteger("runs") + ")", String.format(
          "%.0f ms to the first classification = live %.0f + ready %.0f + first answer %.0f", p.getDouble("totalMs"),
          p.getDouble("spawnToLiveMs"), p.getDouble("liveToReadyMs"), p.getDouble("readyToFirstPredictionMs")));
    }
    JsonObject memory = report.getJsonObject("memory");
    if (memory != null && memory.containsKey("trainingPeakRssMb")) {
      row(sb, "training peak RSS (VmHWM)", memory.getLong("trainingPeakRssMb") + " MB with "
          + memory.getJsonArray("trainingJvmArgs").encode());
    }
    if (memory != null && memory.containsKey("servingSteadyRssMb")) {
      row(sb, "serving RSS steady / peak", memory.getLong("servingSteadyRssMb") + " / "
          + memory.getLong("servingPeakRssMb") + " MB with " + memory.getJsonArray("servingJvmArgs").encode());
    }
    sb.append("-".repeat(100)).append('\n');
    JsonObject goals = report.getJsonObject("goals");
    for (String name : goals.fieldNames()) {
      JsonObject g = goals.getJsonObject(name);
      row(sb, "goal " + name, String.format("%s: measured %s -> %s", g.getString("goal"), g.getValue("measured"),
          g.getBoolean("met") ? "met" : "NOT met"));
    }
    return sb.toString();
  }

  private static void row(StringBuilder sb, String name, String value) {
    sb.append(String.format("%-46s %s%n", name, value));
  }
}
