package cifarserve.loadtest.generator;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One phase (warm-up or measured) shared by all generator instances: its origin on the timeline, its
 * limits (request count and/or deadline), the arrival rate for the open model, and live counters
 * read by the progress bar from another thread.
 */
public final class PhasePlan {
  public static final long UNLIMITED = Long.MAX_VALUE;

  private final String name;
  private final long requestLimit;
  private final long durationNanos;
  private final double ratePerSecond;
  private final AtomicLong tickets;
  private final AtomicLong sequence;
  private final AtomicLong finished = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  private volatile long startNanos;

  /**
   * @param requestLimit  requests (closed) or arrivals (open) in the phase, or {@link #UNLIMITED}
   * @param durationNanos phase length, or {@link #UNLIMITED}
   * @param ratePerSecond arrivals per second for the open model, 0 for the closed model
   * @param sequence      shared payload rotation counter (continues across phases)
   */
  public PhasePlan(String name, long requestLimit, long durationNanos, double ratePerSecond, AtomicLong sequence) {
    if (requestLimit == UNLIMITED && durationNanos == UNLIMITED) {
      throw new IllegalArgumentException("a phase needs a request count or a duration");
    }
    this.name = name;
    this.requestLimit = requestLimit;
    this.durationNanos = durationNanos;
    this.ratePerSecond = ratePerSecond;
    this.tickets = new AtomicLong(requestLimit);
    this.sequence = sequence;
  }

  /** Fixes the phase origin; every instance schedules and times relative to it. */
  public PhasePlan start(long nanoTime) {
    this.startNanos = nanoTime;
    return this;
  }

  public String name() {
    return name;
  }

  public long startNanos() {
    return startNanos;
  }

  public long deadlineNanos() {
    return durationNanos == UNLIMITED ? UNLIMITED : startNanos + durationNanos;
  }

  public long requestLimit() {
    return requestLimit;
  }

  public long durationNanos() {
    return durationNanos;
  }

  public boolean openModel() {
    return ratePerSecond > 0;
  }

  public double ratePerSecond() {
    return ratePerSecond;
  }

  /** Closed model: claims the right to send one more request. */
  boolean takeTicket() {
    if (requestLimit == UNLIMITED) {
      return true;
    }
    return tickets.getAndDecrement() > 0;
  }

  long nextSequence() {
    return sequence.getAndIncrement();
  }

  void finishedOne(boolean failure) {
    finished.incrementAndGet();
    if (failure) {
      failed.incrementAndGet();
    }
  }

  public long finished() {
    return finished.get();
  }

  public long failed() {
    return failed.get();
  }
}
