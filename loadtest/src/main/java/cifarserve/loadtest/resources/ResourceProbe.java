package cifarserve.loadtest.resources;

import io.vertx.core.Future;

/** One source of resource figures about the target (a PID, a cgroup, a /metrics endpoint). */
public interface ResourceProbe {
  /** For the report, e.g. "pid 1234" or "cgroup /sys/fs/cgroup/x". */
  String describe();

  /** Reads the current figures; never blocks the calling event loop. */
  Future<ResourceReading> read();
}
