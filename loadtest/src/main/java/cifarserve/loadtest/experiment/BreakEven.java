package cifarserve.loadtest.experiment;

/**
 * Resource use per hour of each deployment against the request rate, from measured costs.
 * Arrivals are taken as Poisson at rate λ: a gap longer than zero-duration Z scales the function to
 * zero, so per hour it pays e^{-λZ}·λ·3600 cold starts and stays warm 3600·(1 − e^{-λZ}) seconds
 * (each gap keeps it warm for min(gap, Z), whose mean is (1 − e^{-λZ})/λ).
 *
 * @param alwaysOnIdleCpu   CPU-seconds per second of the idle node
 * @param alwaysOnMemGiB    memory of the node (GiB, held all hour)
 * @param functionIdleCpu   CPU-seconds per second of the warm, idle function
 * @param functionMemGiB    memory of the warm function (GiB)
 * @param cpuPerRequestS    CPU-seconds one classification costs (measured busy, minus idle)
 * @param coldStartCpuS     CPU-seconds one cold start costs
 * @param coldStartGiBS     GiB-seconds one cold start holds (memory over the start)
 * @param zeroDurationS     the gateway's zero-duration (seconds without traffic before scaling to zero)
 */
public record BreakEven(double alwaysOnIdleCpu, double alwaysOnMemGiB, double functionIdleCpu, double functionMemGiB,
    double cpuPerRequestS, double coldStartCpuS, double coldStartGiBS, double zeroDurationS) {

  static final double HOUR = 3600;

  public double warmSecondsPerHour(double rate) {
    return rate <= 0 ? 0 : HOUR * (1 - Math.exp(-rate * zeroDurationS));
  }

  public double coldStartsPerHour(double rate) {
    return rate <= 0 ? 0 : rate * HOUR * Math.exp(-rate * zeroDurationS);
  }

  public double alwaysOnCpuSecondsPerHour(double rate) {
    return alwaysOnIdleCpu * HOUR + rate * HOUR * cpuPerRequestS;
  }

  public double alwaysOnGiBSecondsPerHour(double rate) {
    return alwaysOnMemGiB * HOUR;
  }

  public double functionCpuSecondsPerHour(double rate) {
    return functionIdleCpu * warmSecondsPerHour(rate) + coldStartsPerHour(rate) * coldStartCpuS
        + rate * HOUR * cpuPerRequestS;
  }

  public double functionGiBSecondsPerHour(double rate) {
    return functionMemGiB * warmSecondsPerHour(rate) + coldStartsPerHour(rate) * coldStartGiBS;
  }

  /** The lowest rate (requests/s, within [lo, hi] on a log scale) where the function's CPU use reaches the node's, or NaN. */
  public double cpuCrossing(double lo, double hi) {
    return crossing(lo, hi, true);
  }

  /** As {@link #cpuCrossing} for GiB-seconds. */
  public double memoryCrossing(double lo, double hi) {
    return crossing(lo, hi, false);
  }

  private double crossing(double lo, double hi, boolean cpu) {
    int steps = 400;
    double prevRate = lo;
    double prev = difference(lo, cpu);
    if (prev >= 0) {
      return lo;
    }
    for (int i = 1; i <= steps; i++) {
      double rate = lo * Math.pow(hi / lo, (double) i / steps);
      double d = difference(rate, cpu);
      if (d >= 0) {
        return bisect(prevRate, rate, cpu);
      }
      prevRate = rate;
    }
    return Double.NaN;
  }

  private double bisect(double a, double b, boolean cpu) {
    for (int i = 0; i < 60; i++) {
      double mid = (a + b) / 2;
      if (difference(mid, cpu) >= 0) {
        b = mid;
      } else {
        a = mid;
      }
    }
    return (a + b) / 2;
  }

  /** Function minus always-on: negative while the function is cheaper. */
  private double difference(double rate, boolean cpu) {
    return cpu ? functionCpuSecondsPerHour(rate) - alwaysOnCpuSecondsPerHour(rate)
        : functionGiBSecondsPerHour(rate) - alwaysOnGiBSecondsPerHour(rate);
  }
}
