package cifarserve.loadtest.resources;

import cifarserve.common.ProcStats;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** CPU time and RSS of one process, read through {@link ProcStats} (Linux). */
public final class ProcessProbe implements ResourceProbe {
  private final Vertx vertx;
  private final long pid;
  private final Path stat;
  private final Path status;

  public ProcessProbe(Vertx vertx, long pid) {
    this.vertx = vertx;
    this.pid = pid;
    this.stat = ProcStats.dir(Long.toString(pid)).resolve("stat");
    this.status = ProcStats.dir(Long.toString(pid)).resolve("status");
  }

  /** Fails fast when the PID is not there, rather than reporting an empty table at the end. */
  public static void checkExists(long pid) {
    if (!Files.isReadable(ProcStats.dir(Long.toString(pid)).resolve("stat"))) {
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
    long rss = ProcStats.statusBytes(Files.readString(status), "VmRSS");
    // A zombie has no VmRSS: no memory figure rather than a negative one.
    return new ResourceReading(now, ProcStats.cpuSecondsOf(Files.readString(stat)), null, rss < 0 ? null : rss, null);
  }
}
