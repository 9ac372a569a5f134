package cifarserve;

import java.lang.management.ManagementFactory;

/**
 * When this JVM started, when its main ran and when it listened, as epoch milliseconds, printed once
 * as one line: the experiment reads it from the container's log to split a start into "JVM started"
 * and "JVM to main", which it cannot see from outside. The JVM's own start time (ms) is used, not the
 * process start from /proc: Java converts that with the boot time in whole seconds, up to 1 s off (a
 * report once showed the process starting 0.59 s before its container was created).
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
    long process = ManagementFactory.getRuntimeMXBean().getStartTime();
    return "startup marks (epoch ms): process " + process + ", main " + mainReachedMillis + ", listening "
        + System.currentTimeMillis();
  }
}
