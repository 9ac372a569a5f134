package cifarserve.loadtest.experiment;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** DIR/report.json: the keys the issue fixes, each figure as {median, min, max, n}. */
final class Report {
  /** Present for both deployments. */
  static final List<String> COMMON_KEYS = List.of("startupFromNothingS", "fromNothingAccuracyPct", "startupAsDeployedS", "responseMsStudyLine",
      "idleCpuPct", "idleMemPct", "busyCpuPct", "busyMemPct", "idleRssMiB", "busyRssMiB");
  /** The function's own. */
  static final List<String> FUNCTION_KEYS = List.of("coldRequestMs", "scaledToZeroCpuPct");

  private Report() {
  }

  static BreakEven breakEven(Results r, int zeroDurationS) {
    double fnPerRequest = perRequestCpu(r, "function");
    double nodePerRequest = perRequestCpu(r, "alwaysOn");
    double perRequest = Double.isNaN(fnPerRequest) ? nodePerRequest
        : Double.isNaN(nodePerRequest) ? fnPerRequest : (fnPerRequest + nodePerRequest) / 2;
    double coldMiB = value(r.spread("function", "coldStartMiB"));
    double coldS = value(r.spread("function", "startupAsDeployedS"));
    return new BreakEven(value(r.spread("alwaysOn", "idleCpuSPerS")), value(r.spread("alwaysOn", "idleRssMiB")) / 1024,
        value(r.spread("function", "idleCpuSPerS")), value(r.spread("function", "idleRssMiB")) / 1024,
        perRequest, value(r.spread("function", "coldStartCpuS")), coldMiB / 1024 * coldS, zeroDurationS);
  }

  /** (busy − idle) CPU-seconds per second over the closed run's throughput. */
  static double perRequestCpu(Results r, String d) {
    return (value(r.spread(d, "busyCpuSPerS")) - value(r.spread(d, "idleCpuSPerS"))) / value(r.spread(d, "capacityPerS"));
  }

  static double value(Spread s) {
    return s.filled() ? s.median() : Double.NaN;
  }

  static JsonObject json(Results r, ExperimentSettings s, String startedAt, JsonObject machine) {
    JsonObject deployments = new JsonObject();
    for (String d : Results.DEPLOYMENTS) {
      JsonObject figures = new JsonObject();
      for (String key : COMMON_KEYS) {
        figures.put(key, r.spread(d, key).toJson());
      }
      if (d.equals("function")) {
        for (String key : FUNCTION_KEYS) {
          figures.put(key, r.spread(d, key).toJson());
        }
      }
      JsonObject more = new JsonObject();
      r.all(d).keySet().stream().filter(k -> !figures.containsKey(k)).sorted()
          .forEach(k -> more.put(k, r.spread(d, k).toJson()));
      figures.put("more", more);
      deployments.put(d, figures);
    }
    BreakEven be = breakEven(r, s.zeroDurationSeconds());
    return new JsonObject()
        .put("machine", machine)
        .put("command", s.command())
        .put("startedAt", startedAt)
        .put("repeat", s.repeat())
        .put("quick", s.quick())
        .put("limits", new JsonObject().put("cpus", Deployment.CPU_COUNT).put("memoryMiB", Deployment.MEMORY_MIB))
        .put("training", new JsonObject().put("trainLimit", s.trainLimit()).put("testLimit", s.testLimit()).put("epochs", s.epochs()))
        .put("scaleToZero", new JsonObject().put("emulated", true).put("zeroDurationS", s.zeroDurationSeconds()))
        .put("deployments", deployments)
        .put("breakEven", new JsonObject().put("model", be.toString())
            .put("cpuCrossingRequestsPerS", finite(be.cpuCrossing(1e-6, 1000)))
            .put("memoryCrossingRequestsPerS", finite(be.memoryCrossing(1e-6, 1000))));
  }

  static Double finite(double v) {
    return Double.isFinite(v) ? v : null;
  }

  /** Cells of the list that have no value (empty when the report is complete). */
  static List<String> missing(JsonObject report) {
    List<String> gaps = new java.util.ArrayList<>();
    for (String d : Results.DEPLOYMENTS) {
      JsonObject figures = report.getJsonObject("deployments").getJsonObject(d);
      List<String> keys = new java.util.ArrayList<>(COMMON_KEYS);
      if (d.equals("function")) {
        keys.addAll(FUNCTION_KEYS);
      }
      for (String key : keys) {
        JsonObject cell = figures.getJsonObject(key);
        if (cell == null || cell.getValue("median") == null || cell.getValue("min") == null || cell.getValue("max") == null) {
          gaps.add(d + "." + key);
        }
      }
    }
    for (String key : List.of("machine", "command", "startedAt", "repeat")) {
      if (report.getValue(key) == null) {
        gaps.add(key);
      }
    }
    return gaps;
  }

  static void write(Path file, JsonObject report) throws IOException {
    Files.writeString(file, report.encodePrettily());
  }
}
