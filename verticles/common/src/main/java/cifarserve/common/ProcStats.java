package cifarserve.common;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A process's CPU time and resident memory, and the machine's load, from Linux's /proc: the one reader
 * the benchmark harness and the load tester share. Every reading is -1 (or empty) where /proc cannot
 * be read: the process is gone, or this is not Linux.
 */
public final class ProcStats {
  /**
   * /proc counts CPU time in USER_HZ ticks, which the kernel fixes at 100 on every ABI this runs on;
   * a constant rather than spawning {@code getconf CLK_TCK}, which would cost a cold-start probe its figures.
   */
  static final double TICKS_PER_SECOND = 100;

  private ProcStats() {
  }

  /** VmRSS and its peak VmHWM in bytes (-1 when absent). */
  public record Memory(long rssBytes, long peakBytes) {
    public long rssMb() {
      return rssBytes < 0 ? -1 : rssBytes >> 20;
    }

    public long peakMb() {
      return peakBytes < 0 ? -1 : peakBytes >> 20;
    }
  }

  /** {@code /proc/<pid>}, where pid may also be {@code self}. */
  public static Path dir(String pid) {
    return Path.of("/proc", pid);
  }

  /** User + system CPU time of a process (all threads) in seconds, or -1. */
  public static double cpuSeconds(String pid) {
    try {
      return cpuSecondsOf(Files.readString(dir(pid).resolve("stat")));
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /** utime + stime (fields 14 and 15) of a /proc/PID/stat line, in seconds. */
  public static double cpuSecondsOf(String statLine) {
    // The command name (field 2) may hold spaces and parentheses: count fields after the last ')'.
    String[] fields = statLine.substring(statLine.lastIndexOf(')') + 2).trim().split("\\s+");
    return (Long.parseLong(fields[14 - 3]) + Long.parseLong(fields[15 - 3])) / TICKS_PER_SECOND;
  }

  /** Resident set now and at its peak; both -1 when the process cannot be read. */
  public static Memory memory(String pid) {
    try {
      String status = Files.readString(dir(pid).resolve("status"));
      return new Memory(statusBytes(status, "VmRSS"), statusBytes(status, "VmHWM"));
    } catch (IOException | RuntimeException e) {
      return new Memory(-1, -1);
    }
  }

  /** A "Name:   N kB" field of /proc/PID/status in bytes, or -1 when absent (a zombie has no VmRSS). */
  public static long statusBytes(String statusText, String field) {
    for (String line : statusText.split("\n")) {
      if (line.startsWith(field + ":")) {
        return Long.parseLong(line.substring(field.length() + 1).trim().split("\\s+")[0]) * 1024;
      }
    }
    return -1;
  }

  /** The 1-, 5- and 15-minute load averages from /proc/loadavg; empty when unavailable. */
  public static double[] loadAverage() {
    try {
      String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return new double[] {Double.parseDouble(fields[0]), Double.parseDouble(fields[1]), Double.parseDouble(fields[2])};
    } catch (IOException | RuntimeException e) {
      return new double[0];
    }
  }
}
