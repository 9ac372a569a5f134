package cifarserve;

import java.time.Instant;

/**
 * When this process started, when its main ran and when it listened, as epoch milliseconds, printed once
 * as one line: the experiment reads it from the container's log to split a start into "process started"
 * and "JVM to main", which it cannot see from outside. The process start comes from /proc (10 ms ticks).
 */
public final class StartupMarks {
  private static volatile long mainReachedMillis = -1;

  private StartupMarks() {
  }

  /** The first statement of each main. */
  public static void mainReached() {
    mainReachedMillis = System.currentTimeMillis();
  }

  /** e.g. "startup marks (epoch ms): process 1764590000120, main 1764590000310, listening 1764590000905". */
  public static String line() {
    long process = ProcessHandle.current().info().startInstant().map(Instant::toEpochMilli).orElse(-1L);
    return "startup marks (epoch ms): process " + process + ", main " + mainReachedMillis + ", listening "
        + System.currentTimeMillis();
  }
}
