package cifarserve.loadtest.generator;

import java.util.Arrays;

/**
 * One row per measured request, kept only when per-request CSV output is asked for. Primitive arrays
 * (about 30 bytes a row) instead of objects, and a hard cap so a long run cannot exhaust the heap.
 */
public final class RequestLog {
  public static final int MAX_ROWS = 5_000_000;

  private long[] startMicros = new long[1024];
  private long[] intendedMicros = new long[1024];
  private long[] latencyMicros = new long[1024];
  private short[] status = new short[1024];
  private byte[] outcome = new byte[1024];
  private int[] bytes = new int[1024];
  private int size;
  private long dropped;

  void add(long startMicros, long intendedMicros, long latencyMicros, int status, Outcome outcome, int bytes) {
    if (size == MAX_ROWS) {
      dropped++;
      return;
    }
    if (size == this.startMicros.length) {
      int n = Math.min(MAX_ROWS, size * 2);
      this.startMicros = Arrays.copyOf(this.startMicros, n);
      this.intendedMicros = Arrays.copyOf(this.intendedMicros, n);
      this.latencyMicros = Arrays.copyOf(this.latencyMicros, n);
      this.status = Arrays.copyOf(this.status, n);
      this.outcome = Arrays.copyOf(this.outcome, n);
      this.bytes = Arrays.copyOf(this.bytes, n);
    }
    this.startMicros[size] = startMicros;
    this.intendedMicros[size] = intendedMicros;
    this.latencyMicros[size] = latencyMicros;
    this.status[size] = (short) status;
    this.outcome[size] = (byte) outcome.ordinal();
    this.bytes[size] = bytes;
    size++;
  }

  void addAll(RequestLog other) {
    for (int i = 0; i < other.size; i++) {
      add(other.startMicros[i], other.intendedMicros[i], other.latencyMicros[i], other.status[i],
          Outcome.values()[other.outcome[i]], other.bytes[i]);
    }
    dropped += other.dropped;
  }

  public int size() {
    return size;
  }

  public long dropped() {
    return dropped;
  }

  /** Actual send time, microseconds from the start of the measured phase. */
  public long startMicros(int i) {
    return startMicros[i];
  }

  /** Intended send time (open model; equals the start in the closed model). */
  public long intendedMicros(int i) {
    return intendedMicros[i];
  }

  /** Latency from the actual send, microseconds; -1 when no answer came. */
  public long latencyMicros(int i) {
    return latencyMicros[i];
  }

  public int status(int i) {
    return status[i];
  }

  public Outcome outcome(int i) {
    return Outcome.values()[outcome[i]];
  }

  public int bytes(int i) {
    return bytes[i];
  }
}
