package cifarserve.loadtest.generator;

import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.AbstractHistogram;
import org.HdrHistogram.IntCountsHistogram;

/**
 * Per-interval latency and counts, indexed by completion time since the start of the measured phase,
 * so they line up with the resource samples on the same timeline.
 */
public final class IntervalSeries {
  /** Counts and latencies of one interval. */
  public static final class Bucket {
    // 2 significant digits per interval keeps a long run's series small; the run totals use 3.
    final AbstractHistogram latencyMicros = new IntCountsHistogram(2);
    long responses;
    long failures;
    long bodyBytes;

    public AbstractHistogram latencyMicros() {
      return latencyMicros;
    }

    public long responses() {
      return responses;
    }

    public long failures() {
      return failures;
    }

    public long bodyBytes() {
      return bodyBytes;
    }
  }

  private final long intervalNanos;
  private final List<Bucket> buckets = new ArrayList<>();

  public IntervalSeries(long intervalNanos) {
    this.intervalNanos = intervalNanos;
  }

  public long intervalNanos() {
    return intervalNanos;
  }

  void record(long sinceStartNanos, long latencyMicros, boolean failure, int bodyBytes) {
    Bucket b = bucket(sinceStartNanos);
    if (latencyMicros >= 0) {
      b.latencyMicros.recordValue(latencyMicros);
      b.responses++;
    }
    if (failure) {
      b.failures++;
    }
    b.bodyBytes += bodyBytes;
  }

  private Bucket bucket(long sinceStartNanos) {
    int index = (int) Math.max(0, sinceStartNanos / intervalNanos);
    while (buckets.size() <= index) {
      buckets.add(new Bucket());
    }
    return buckets.get(index);
  }

  void addAll(IntervalSeries other) {
    for (int i = 0; i < other.buckets.size(); i++) {
      Bucket from = other.buckets.get(i);
      Bucket to = bucket(i * intervalNanos);
      to.latencyMicros.add(from.latencyMicros);
      to.responses += from.responses;
      to.failures += from.failures;
      to.bodyBytes += from.bodyBytes;
    }
  }

  public List<Bucket> buckets() {
    return buckets;
  }
}
