package cifarserve.bench;

import cifarserve.common.ProcStats;
import io.vertx.core.json.JsonObject;
import java.lang.management.ManagementFactory;
import java.util.HashMap;
import java.util.Map;

/** Shared by the probes that run in child JVMs: arguments, the result line, memory and CPU readings. */
final class ProbeSupport {
  /** A child's last stdout line starting with this carries its JSON result. */
  static final String RESULT_PREFIX = "BENCH-RESULT ";

  private ProbeSupport() {
  }

  /** {@code key=value} arguments. */
  static Map<String, String> args(String[] args) {
    Map<String, String> out = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("expected key=value, got " + arg);
      }
      out.put(arg.substring(0, eq), arg.substring(eq + 1));
    }
    return out;
  }

  static int intArg(Map<String, String> args, String key, int fallback) {
    String value = args.get(key);
    return value == null ? fallback : Integer.parseInt(value);
  }

  static void emit(JsonObject result) {
    System.out.println(RESULT_PREFIX + result.encode());
    System.out.flush();
  }

  /** Process CPU time (all threads, user + system) in nanoseconds. */
  static long cpuNanos() {
    var os = ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      return sun.getProcessCpuTime();
    }
    return -1;
  }

  /** This JVM's memory: resident set (now and peak) and Java heap. */
  static JsonObject memory() {
    ProcStats.Memory self = ProcStats.memory("self");
    Runtime rt = Runtime.getRuntime();
    return new JsonObject()
        .put("vmRssMb", self.rssMb())
        .put("vmHwmMb", self.peakMb())
        .put("heapUsedMb", (rt.totalMemory() - rt.freeMemory()) >> 20)
        .put("heapMaxMb", rt.maxMemory() >> 20);
  }

  static JsonObject jvm() {
    return new JsonObject()
        .put("jdk", System.getProperty("java.vm.vendor") + " " + System.getProperty("java.runtime.version"))
        .put("args", new io.vertx.core.json.JsonArray(ManagementFactory.getRuntimeMXBean().getInputArguments()))
        .put("OMP_NUM_THREADS", System.getenv("OMP_NUM_THREADS"))
        .put("OMP_WAIT_POLICY", System.getenv("OMP_WAIT_POLICY"))
        .put("OPENBLAS_THREAD_TIMEOUT", System.getenv("OPENBLAS_THREAD_TIMEOUT"))
        .put("MALLOC_MMAP_THRESHOLD_", System.getenv("MALLOC_MMAP_THRESHOLD_"))
        .put("MALLOC_TRIM_THRESHOLD_", System.getenv("MALLOC_TRIM_THRESHOLD_"));
  }

  static double ms(long nanos) {
    return nanos / 1e6;
  }
}
