package cifarserve.loadtest.experiment;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Every figure of every repetition, per deployment ("function", "alwaysOn"), plus the runs kept for plots. */
final class Results {
  static final List<String> DEPLOYMENTS = List.of("function", "alwaysOn");
  private final Map<String, Map<String, List<Double>>> values = new LinkedHashMap<>();
  private final Map<String, JsonObject> keptRuns = new LinkedHashMap<>();

  Results() {
    DEPLOYMENTS.forEach(d -> values.put(d, new LinkedHashMap<>()));
  }

  synchronized void add(String deployment, String metric, Double value) {
    values.get(deployment).computeIfAbsent(metric, k -> new ArrayList<>()).add(value);
  }

  synchronized Double last(String deployment, String metric) {
    List<Double> list = values.get(deployment).get(metric);
    return list == null || list.isEmpty() ? null : list.get(list.size() - 1);
  }

  synchronized Spread spread(String deployment, String metric) {
    return Spread.of(values.get(deployment).getOrDefault(metric, List.of()));
  }

  synchronized Map<String, List<Double>> all(String deployment) {
    return values.get(deployment);
  }

  /** Idle and busy CPU and memory from a load-test run's cgroup samples (the "idle" and "busy" phases). */
  void addResources(String deployment, JsonObject run) {
    JsonObject phases = run.getJsonObject("resources", new JsonObject()).getJsonObject("phases", new JsonObject());
    for (String phase : List.of("idle", "busy")) {
      JsonObject p = phases.getJsonObject(phase);
      Double cpuOfOneCore = p == null ? null : p.getJsonObject("cpuPercent").getDouble("avg");
      Double memBytes = p == null ? null : p.getJsonObject("memoryBytes").getDouble("avg");
      add(deployment, phase + "CpuPct", cpuOfOneCore == null ? null : cpuOfOneCore / Deployment.CPU_COUNT);
      add(deployment, phase + "CpuSPerS", cpuOfOneCore == null ? null : cpuOfOneCore / 100);
      Double mib = memBytes == null ? null : memBytes / 1048576.0;
      add(deployment, phase + "RssMiB", mib);
      add(deployment, phase + "MemPct", mib == null ? null : 100 * mib / Deployment.MEMORY_MIB);
    }
  }

  synchronized void keepRun(String deployment, String name, JsonObject run) {
    keptRuns.put(deployment + "." + name, run);
  }

  synchronized JsonObject keptRun(String deployment, String name) {
    return keptRuns.get(deployment + "." + name);
  }
}
