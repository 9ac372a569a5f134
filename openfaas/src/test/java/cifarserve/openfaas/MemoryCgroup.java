package cifarserve.openfaas;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A process's memory cgroup, read on the host (v2 unified or v1 memory controller), in bytes. */
final class MemoryCgroup {
  private static final Path ROOT = Path.of("/sys/fs/cgroup");
  private final Path dir;
  private final boolean v2;

  private MemoryCgroup(Path dir, boolean v2) {
    this.dir = dir;
    this.v2 = v2;
  }

  static MemoryCgroup of(long pid) throws IOException {
    boolean v2 = Files.exists(ROOT.resolve("cgroup.controllers"));
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/cgroup"))) {
      String[] f = line.split(":", 3);
      if (v2 ? f[0].equals("0") : ("," + f[1] + ",").contains(",memory,")) {
        return new MemoryCgroup(Path.of((v2 ? ROOT : ROOT.resolve("memory")) + f[2]), v2);
      }
    }
    throw new IOException("no memory cgroup for process " + pid);
  }

  /** Usage now, page cache and the /tmp tmpfs included. */
  long usage() throws IOException {
    return read(v2 ? "memory.current" : "memory.usage_in_bytes");
  }

  /** The highest usage since the container started. */
  long peak() throws IOException {
    return read(v2 ? "memory.peak" : "memory.max_usage_in_bytes");
  }

  private long read(String file) throws IOException {
    return Long.parseLong(Files.readString(dir.resolve(file)).trim());
  }

  /** A field of /proc/PID/status in MiB (VmRSS, VmHWM). */
  static long statusMiB(long pid, String field) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith(field + ":")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
      }
    }
    throw new IOException(field + " not in /proc/" + pid + "/status");
  }
}
