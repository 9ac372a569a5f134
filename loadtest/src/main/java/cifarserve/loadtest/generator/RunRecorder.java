package cifarserve.loadtest.generator;

import java.util.Map;
import java.util.TreeMap;
import org.HdrHistogram.Histogram;

/**
 * Everything measured in one phase by one generator instance. Owned by one event loop while the
 * phase runs (no locks on the hot path); instances are merged once the phase is over.
 */
public final class RunRecorder {
  private static final int STATUS_SLOTS = 1000;

  /** Latency from the intended send time (open model: coordinated-omission corrected), microseconds. */
  private final Histogram corrected = new Histogram(3);
  /** Latency from the actual send time, microseconds. Equal to {@link #corrected} in the closed model. */
  private final Histogram uncorrected = new Histogram(3);
  private final long[] statusCounts = new long[STATUS_SLOTS];
  private final long[] outcomes = new long[Outcome.values().length];
  private final IntervalSeries intervals;
  private final RequestLog requestLog;
  private long sent;
  private long notSent;
  private long bodyBytes;
  private long sentBytes;
  private long minBodyLength = Long.MAX_VALUE;
  private long maxBodyLength = -1;
  private long accuracyEvaluated;
  private long accuracyCorrect;
  private long accuracyUnreadable;

  public RunRecorder(long intervalNanos, boolean keepRequestLog) {
    this.intervals = new IntervalSeries(intervalNanos);
    this.requestLog = keepRequestLog ? new RequestLog() : null;
  }

  void requestSent(int bytes) {
    sent++;
    sentBytes += bytes;
  }

  void arrivalsNotSent(long count) {
    notSent += count;
  }

  /**
   * Records one finished request. Times are nanoTime values; {@code phaseStart} is the phase's origin.
   *
   * @param status the HTTP status, or 0 when no answer arrived
   */
  void record(long phaseStart, long intended, long sentAt, long doneAt, int status, Outcome outcome, int bodyLength) {
    boolean answered = status > 0;
    long latencyMicros = -1;
    if (answered) {
      latencyMicros = Math.max(0, (doneAt - sentAt) / 1000);
      uncorrected.recordValue(latencyMicros);
      corrected.recordValue(Math.max(0, (doneAt - intended) / 1000));
      statusCounts[Math.min(status, STATUS_SLOTS - 1)]++;
      bodyBytes += bodyLength;
      minBodyLength = Math.min(minBodyLength, bodyLength);
      maxBodyLength = Math.max(maxBodyLength, bodyLength);
    }
    outcomes[outcome.ordinal()]++;
    long correctedMicros = answered ? Math.max(0, (doneAt - intended) / 1000) : -1;
    intervals.record(doneAt - phaseStart, correctedMicros, outcome.isFailure(), answered ? bodyLength : 0);
    if (requestLog != null) {
      requestLog.add((sentAt - phaseStart) / 1000, (intended - phaseStart) / 1000, latencyMicros, status, outcome,
          answered ? bodyLength : 0);
    }
  }

  void accuracy(boolean readable, boolean correct) {
    if (!readable) {
      accuracyUnreadable++;
      return;
    }
    accuracyEvaluated++;
    if (correct) {
      accuracyCorrect++;
    }
  }

  /** Adds another instance's figures into this one (after both phases are over). */
  public RunRecorder merge(RunRecorder other) {
    corrected.add(other.corrected);
    uncorrected.add(other.uncorrected);
    for (int i = 0; i < STATUS_SLOTS; i++) {
      statusCounts[i] += other.statusCounts[i];
    }
    for (int i = 0; i < outcomes.length; i++) {
      outcomes[i] += other.outcomes[i];
    }
    intervals.addAll(other.intervals);
    if (requestLog != null && other.requestLog != null) {
      requestLog.addAll(other.requestLog);
    }
    sent += other.sent;
    notSent += other.notSent;
    bodyBytes += other.bodyBytes;
    sentBytes += other.sentBytes;
    minBodyLength = Math.min(minBodyLength, other.minBodyLength);
    maxBodyLength = Math.max(maxBodyLength, other.maxBodyLength);
    accuracyEvaluated += other.accuracyEvaluated;
    accuracyCorrect += other.accuracyCorrect;
    accuracyUnreadable += other.accuracyUnreadable;
    return this;
  }

  public Histogram corrected() {
    return corrected;
  }

  public Histogram uncorrected() {
    return uncorrected;
  }

  /** Status code -> count, in code order. Codes >= 999 share the last slot. */
  public Map<Integer, Long> statusCounts() {
    Map<Integer, Long> map = new TreeMap<>();
    for (int i = 0; i < STATUS_SLOTS; i++) {
      if (statusCounts[i] > 0) {
        map.put(i, statusCounts[i]);
      }
    }
    return map;
  }

  public long count(Outcome outcome) {
    return outcomes[outcome.ordinal()];
  }

  /** Requests that ended (with or without an answer). */
  public long finished() {
    long total = 0;
    for (long n : outcomes) {
      total += n;
    }
    return total;
  }

  /** Requests that got an HTTP answer, whatever its status. */
  public long answered() {
    return uncorrected.getTotalCount();
  }

  public long failures() {
    return finished() - count(Outcome.SUCCESS);
  }

  public long sent() {
    return sent;
  }

  /** Open model: arrivals that were due but found no free connection before the run ended. */
  public long notSent() {
    return notSent;
  }

  public long bodyBytes() {
    return bodyBytes;
  }

  public long sentBytes() {
    return sentBytes;
  }

  public long minBodyLength() {
    return maxBodyLength < 0 ? 0 : minBodyLength;
  }

  public long maxBodyLength() {
    return Math.max(0, maxBodyLength);
  }

  public long accuracyEvaluated() {
    return accuracyEvaluated;
  }

  public long accuracyCorrect() {
    return accuracyCorrect;
  }

  public long accuracyUnreadable() {
    return accuracyUnreadable;
  }

  public IntervalSeries intervals() {
    return intervals;
  }

  /** Null unless per-request rows were asked for. */
  public RequestLog requestLog() {
    return requestLog;
  }
}
