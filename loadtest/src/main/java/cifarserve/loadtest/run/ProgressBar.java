package cifarserve.loadtest.run;

import cifarserve.loadtest.generator.PhasePlan;
import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress display on stderr, redrawn in place. It stays silent for the first
 * {@link #QUIET_MILLIS} (short runs print nothing) and runs on its own daemon thread, never on an
 * event loop.
 */
final class ProgressBar {
  static final long QUIET_MILLIS = 3000;
  private static final long REDRAW_MILLIS = 250;
  private static final int WIDTH = 30;

  private final PrintStream out;
  private volatile PhasePlan plan;
  private volatile boolean running = true;
  private boolean drawn;
  private final Thread thread;

  ProgressBar(PrintStream out) {
    this.out = out;
    this.thread = new Thread(this::loop, "loadtest-progress");
    thread.setDaemon(true);
    thread.start();
  }

  void show(PhasePlan plan) {
    this.plan = plan;
  }

  void close() {
    running = false;
    thread.interrupt();
    try {
      thread.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (drawn) {
      out.print("\r" + " ".repeat(100) + "\r");
      out.flush();
    }
  }

  private void loop() {
    long begin = System.currentTimeMillis();
    while (running) {
      try {
        Thread.sleep(REDRAW_MILLIS);
      } catch (InterruptedException e) {
        return;
      }
      PhasePlan p = plan;
      if (p != null && running && System.currentTimeMillis() - begin >= QUIET_MILLIS) {
        out.print("\r" + line(p, System.nanoTime()));
        out.flush();
        drawn = true;
      }
    }
  }

  static String line(PhasePlan p, long now) {
    double elapsed = Math.max(0, (now - p.startNanos()) / 1e9);
    double byCount = p.requestLimit() == PhasePlan.UNLIMITED ? 0 : (double) p.finished() / p.requestLimit();
    double byTime = p.durationNanos() == PhasePlan.UNLIMITED ? 0 : elapsed * 1e9 / p.durationNanos();
    double fraction = Math.min(1, Math.max(byCount, byTime));
    int filled = (int) Math.round(fraction * WIDTH);
    return String.format(Locale.ROOT, "%-7s [%s%s] %3.0f%% %6.1fs %9d done %7.0f req/s %6d failed ",
        p.name(), "#".repeat(filled), ".".repeat(WIDTH - filled), fraction * 100, elapsed, p.finished(),
        elapsed > 0 ? p.finished() / elapsed : 0, p.failed());
  }
}
