package cifarserve.bench;

import cifarserve.common.ProcStats;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs one probe in a fresh JVM ({@code java <jvmArgs> -cp <bench jar> <probe class> key=value...}),
 * bounded in time, and returns the JSON result it prints. While it runs, its resident set is read from
 * /proc/PID/status every 50 ms, so the peak (VmHWM) is known even if the child could not report it.
 */
final class ChildJvm {
  /** What a child run produced. */
  record Run(JsonObject result, long peakRssMb, long lastRssMb, double wallMs, Path log) {
  }

  private final String javaBinary;
  private final List<String> jvmArgs;
  private final Map<String, String> env;
  private final Path logDir;

  ChildJvm(String java, List<String> jvmArgs, Map<String, String> env, Path logDir) {
    this.javaBinary = java;
    this.jvmArgs = List.copyOf(jvmArgs);
    this.env = Map.copyOf(env);
    this.logDir = logDir;
  }

  static String currentJava() {
    return Path.of(System.getProperty("java.home"), "bin", "java").toString();
  }

  /**
   * The class path this process runs from: under {@code java -jar cifar-serve-bench.jar}, the bench jar,
   * whose manifest adds the node's fat jar.
   */
  static String classPath() {
    return System.getProperty("java.class.path");
  }

  /** The node's jar (the one holding {@code cifarserve.Main}): what {@code serve} is started from, as deployed. */
  static String nodeJar() {
    try {
      return Path.of(cifarserve.Main.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException("cannot locate the node jar", e);
    }
  }

  List<String> command(Class<?> probe, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(javaBinary);
    command.addAll(jvmArgs);
    command.add("-cp");
    command.add(classPath());
    command.add(probe.getName());
    command.addAll(args);
    return command;
  }

  Run run(Class<?> probe, List<String> args, Duration timeout) throws IOException, InterruptedException {
    Files.createDirectories(logDir);
    Path log = Files.createTempFile(logDir, probe.getSimpleName() + "-", ".log");
    List<String> command = command(probe, args);
    ProcessBuilder builder = new ProcessBuilder(command).redirectError(log.toFile());
    builder.environment().putAll(env);
    long started = System.nanoTime();
    Process process = builder.start();
    String pid = Long.toString(process.pid());
    List<String> lines = Collections.synchronizedList(new ArrayList<>());
    Thread reader = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          lines.add(line);
        }
      } catch (IOException e) {
        // the child ended
      }
    }, "bench-child-stdout");
    reader.setDaemon(true);
    reader.start();
    long peak = -1;
    long last = -1;
    long deadline = started + timeout.toNanos();
    while (!process.waitFor(50, TimeUnit.MILLISECONDS)) {
      ProcStats.Memory rss = ProcStats.memory(pid);
      if (rss.rssBytes() >= 0) {
        last = rss.rssMb();
        peak = Math.max(peak, rss.peakMb());
      }
      if (System.nanoTime() > deadline) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        throw new IOException(probe.getSimpleName() + " did not finish within " + timeout + " (log: " + log + ")");
      }
    }
    double wallMs = (System.nanoTime() - started) / 1e6;
    reader.join(5_000);
    Files.write(log, prefixed(lines), StandardOpenOption.APPEND);
    if (process.exitValue() != 0) {
      throw new IOException(probe.getSimpleName() + " exited with " + process.exitValue() + ": "
          + tail(log) + " (log: " + log + ", command: " + String.join(" ", command) + ")");
    }
    JsonObject result = null;
    for (String line : lines) {
      if (line.startsWith(ProbeSupport.RESULT_PREFIX)) {
        result = new JsonObject(line.substring(ProbeSupport.RESULT_PREFIX.length()));
      }
    }
    if (result == null) {
      throw new IOException(probe.getSimpleName() + " printed no result (log: " + log + ")");
    }
    return new Run(result, peak, last, wallMs, log);
  }

  private static List<String> prefixed(List<String> lines) {
    List<String> out = new ArrayList<>();
    synchronized (lines) {
      for (String line : lines) {
        out.add("[stdout] " + line);
      }
    }
    return out;
  }

  private static String tail(Path log) {
    try {
      List<String> all = Files.readAllLines(log);
      return String.join(" | ", all.subList(Math.max(0, all.size() - 5), all.size()));
    } catch (IOException e) {
      return "(no log)";
    }
  }
}
