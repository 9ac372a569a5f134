package cifarserve.loadtest.resources;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** CPU time and RSS of one process from /proc/PID/stat and /proc/PID/status (Linux). */
public final class ProcessProbe implements ResourceProbe {
  private static final double CLOCK_TICKS_PER_SECOND = clockTicks();

  private final Vertx vertx;
  private final long pid;
  private final Path stat;
  private final Path status;

  public ProcessProbe(Vertx vertx, long pid) {
    this.vertx = vertx;
    this.pid = pid;
    this.stat = Path.of("/proc", Long.toString(pid), "stat");
    this.status = Path.of("/proc", Long.toString(pid), "status");
  }

  /** Fails fast when the PID is not there, rather than reporting an empty table at the end. */
  public static void checkExists(long pid) {
    if (!Files.isReadable(Path.of("/proc", Long.toString(pid), "stat"))) {
      throw new IllegalArgumentException("no readable /proc/" + pid + "/stat: is process " + pid + " running (Linux only)?");
    }
  }

  @Override
  public String describe() {
    return "pid " + pid;
  }

  @Override
  public Future<ResourceReading> read() {
    // Two tiny procfs reads: cheap, but still file IO, so off the event loop.
    return vertx.executeBlocking(this::readNow, false);
  }

  ResourceReading readNow() throws IOException {
    long now = System.nanoTime();
    return new ResourceReading(now, cpuSeconds(Files.readString(stat)), null, rssBytes(Files.readString(status)), null);
  }

  /** utime + stime (fields 14 and 15 of /proc/PID/stat), in seconds. */
  static double cpuSeconds(String statLine) {
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    String[] fields = statLine.substring(statLine.lastIndexOf(')') + 2).trim().split("\\s+");
    long utime = Long.parseLong(fields[14 - 3]);
    long stime = Long.parseLong(fields[15 - 3]);
    return (utime + stime) / CLOCK_TICKS_PER_SECOND;
  }

  /** VmRSS of /proc/PID/status, in bytes; null for a zombie (no VmRSS line). */
  static Long rssBytes(String statusText) {
    for (String line : statusText.split("\n")) {
      if (line.startsWith("VmRSS:")) {
        String[] parts = line.substring(6).trim().split("\\s+");
        return Long.parseLong(parts[0]) * 1024;
      }
    }
    return null;
  }

  private static double clockTicks() {
    try {
      Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      if (p.waitFor(5, TimeUnit.SECONDS)) {
        String out = new String(p.getInputStream().readAllBytes()).trim();
        return Double.parseDouble(out);
      }
      p.destroyForcibly();
    } catch (IOException | NumberFormatException e) {
      // fall through to Linux's usual value
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 100;
  }
}
