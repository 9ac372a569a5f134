package cifarserve.loadtest.resources;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time and memory of a cgroup: v2 (cpu.stat usage_usec, memory.current) or v1
 * (cpuacct.usage in ns, memory.usage_in_bytes, found under their controller hierarchies).
 */
public final class CgroupProbe implements ResourceProbe {
  private static final Path ROOT = Path.of("/sys/fs/cgroup");

  private final Vertx vertx;
  private final Path cpuFile;
  private final boolean v2;
  private final Path memoryFile;
  private final String description;

  private CgroupProbe(Vertx vertx, Path cpuFile, boolean v2, Path memoryFile, String description) {
    this.vertx = vertx;
    this.cpuFile = cpuFile;
    this.v2 = v2;
    this.memoryFile = memoryFile;
    this.description = description;
  }

  /**
   * @param cgroup an absolute cgroup directory, or a path relative to /sys/fs/cgroup (as printed in
   *               /proc/PID/cgroup, e.g. {@code /system.slice/docker-abc.scope})
   */
  public static CgroupProbe open(Vertx vertx, String cgroup) {
    return open(vertx, ROOT, cgroup);
  }

  static CgroupProbe open(Vertx vertx, Path root, String cgroup) {
    Path given = Path.of(cgroup);
    String relative = cgroup.startsWith(root.toString()) ? root.relativize(given).toString()
        : cgroup.replaceFirst("^/+", "");
    for (Path dir : new Path[] {given, root.resolve(relative)}) {
      if (Files.isReadable(dir.resolve("cpu.stat")) && Files.isReadable(dir.resolve("memory.current"))) {
        return new CgroupProbe(vertx, dir.resolve("cpu.stat"), true, dir.resolve("memory.current"), "cgroup v2 " + dir);
      }
    }
    // v1: the same relative path under each controller's hierarchy.
    String v1Relative = relative.replaceFirst("^(cpuacct|cpu,cpuacct|cpuacct,cpu|memory)/", "");
    Path cpu = null;
    for (String controller : new String[] {"cpuacct", "cpu,cpuacct", "cpuacct,cpu"}) {
      Path candidate = root.resolve(controller).resolve(v1Relative).resolve("cpuacct.usage");
      if (Files.isReadable(candidate)) {
        cpu = candidate;
        break;
      }
    }
    Path memory = root.resolve("memory").resolve(v1Relative).resolve("memory.usage_in_bytes");
    if (cpu != null && Files.isReadable(memory)) {
      return new CgroupProbe(vertx, cpu, false, memory, "cgroup v1 " + v1Relative);
    }
    throw new IllegalArgumentException("no readable cgroup at '" + cgroup
        + "' (v2: cpu.stat + memory.current; v1: cpuacct.usage + memory.usage_in_bytes)");
  }

  @Override
  public String describe() {
    return description;
  }

  @Override
  public Future<ResourceReading> read() {
    return vertx.executeBlocking(this::readNow, false);
  }

  ResourceReading readNow() throws IOException {
    long now = System.nanoTime();
    double cpuSeconds = v2 ? usageUsec(Files.readString(cpuFile)) / 1e6
        : Long.parseLong(Files.readString(cpuFile).trim()) / 1e9;
    long memory = Long.parseLong(Files.readString(memoryFile).trim());
    return new ResourceReading(now, cpuSeconds, null, memory, null);
  }

  static long usageUsec(String cpuStat) {
    for (String line : cpuStat.split("\n")) {
      if (line.startsWith("usage_usec ")) {
        return Long.parseLong(line.substring("usage_usec ".length()).trim());
      }
    }
    throw new IllegalStateException("cpu.stat without usage_usec");
  }

  /** The cgroup path of a process from /proc/PID/cgroup: the v2 line ("0::/path"), else the v1 cpuacct line. */
  static String cgroupOf(String procPidCgroup) {
    String v1 = null;
    for (String line : procPidCgroup.split("\n")) {
      String[] parts = line.split(":", 3);
      if (parts.length < 3) {
        continue;
      }
      if (parts[0].equals("0") && parts[1].isEmpty()) {
        return parts[2].trim();
      }
      if (parts[1].contains("cpuacct")) {
        v1 = parts[2].trim();
      }
    }
    return v1;
  }

  public static String cgroupOfPid(long pid) throws IOException {
    return cgroupOf(Files.readString(Path.of("/proc", Long.toString(pid), "cgroup")));
  }
}
