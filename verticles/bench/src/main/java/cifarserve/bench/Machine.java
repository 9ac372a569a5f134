package cifarserve.bench;

import cifarserve.BuildInfo;
import cifarserve.common.ProcStats;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What a figure was measured on: CPU, cores, load, JDK, ND4J build and thread settings. The machine
 * may be shared, so the load average is read before and after every measurement.
 */
public final class Machine {
  private Machine() {
  }

  /** The 1-, 5- and 15-minute load averages (empty when unavailable). */
  public static JsonArray loadAverage() {
    JsonArray out = new JsonArray();
    for (double load : ProcStats.loadAverage()) {
      out.add(load);
    }
    return out;
  }

  static String cpuModel() {
    try {
      List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
      String model = field(lines, "model name");
      String family = field(lines, "cpu family");
      String flags = field(lines, "flags");
      String isa = flags == null ? "" : flags.contains(" avx512f") ? " (AVX-512)" : flags.contains(" avx2") ? " (AVX2)" : "";
      return (model == null ? "unknown" : model) + (family == null ? "" : ", family " + family) + isa;
    } catch (IOException e) {
      return System.getProperty("os.arch");
    }
  }

  private static String field(List<String> lines, String name) {
    for (String line : lines) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).trim().equals(name)) {
        return line.substring(colon + 1).trim();
      }
    }
    return null;
  }

  static long memTotalMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // absent
    }
    return -1;
  }

  /** Environment of the benchmark process (children inherit it unless the report says otherwise). */
  public static JsonObject describe() {
    String omp = System.getenv("OMP_NUM_THREADS");
    return new JsonObject()
        .put("cpu", cpuModel())
        .put("cores", Runtime.getRuntime().availableProcessors())
        .put("memTotalMb", memTotalMb())
        .put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"))
        .put("jdk", System.getProperty("java.vm.vendor") + " " + System.getProperty("java.runtime.version"))
        .put("javaHome", System.getProperty("java.home"))
        .put("benchJvmArgs", new JsonArray(ManagementFactory.getRuntimeMXBean().getInputArguments()))
        .put("nd4jClassifier", BuildInfo.get("nd4jClassifier"))
        .put("dl4j", BuildInfo.get("dl4j"))
        .put("javacpp", BuildInfo.get("javacpp"))
        .put("OMP_NUM_THREADS", omp == null ? "unset (OpenMP uses every core)" : omp);
  }
}
