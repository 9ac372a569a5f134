package cifarserve.loadtest.resources;

import java.util.List;

/**
 * Averages and peaks of one phase (idle / busy / after), like the study's "CPU idle/busy, memory
 * idle/busy" table. CPU average is time-weighted over the sample spans (so it equals the cumulative
 * CPU delta over the phase); CPU peak ignores spans shorter than half the sampling interval, whose
 * rate is mostly clock-tick noise. Fields are null when no sample carried the figure.
 */
public record PhaseResources(String phase, int samples, Double cpuAvg, Double cpuPeak, Double memoryAvg,
    Long memoryPeak, Double heapAvg, Long heapPeak) {

  public static PhaseResources of(String phase, List<ResourceSample> all, long samplingIntervalNanos) {
    int n = 0;
    double cpuWeighted = 0;
    long cpuSpan = 0;
    Double cpuPeak = null;
    Double cpuPeakAnySpan = null;
    double memSum = 0;
    int memCount = 0;
    Long memPeak = null;
    double heapSum = 0;
    int heapCount = 0;
    Long heapPeak = null;
    for (ResourceSample s : all) {
      if (!s.phase().equals(phase)) {
        continue;
      }
      n++;
      if (s.cpuPercent() != null && s.spanNanos() > 0) {
        cpuWeighted += s.cpuPercent() * s.spanNanos();
        cpuSpan += s.spanNanos();
        cpuPeakAnySpan = cpuPeakAnySpan == null ? s.cpuPercent() : Math.max(cpuPeakAnySpan, s.cpuPercent());
        if (s.spanNanos() >= samplingIntervalNanos / 2) {
          cpuPeak = cpuPeak == null ? s.cpuPercent() : Math.max(cpuPeak, s.cpuPercent());
        }
      }
      if (s.memoryBytes() != null) {
        memSum += s.memoryBytes();
        memCount++;
        memPeak = memPeak == null ? s.memoryBytes() : Math.max(memPeak, s.memoryBytes());
      }
      if (s.heapBytes() != null) {
        heapSum += s.heapBytes();
        heapCount++;
        heapPeak = heapPeak == null ? s.heapBytes() : Math.max(heapPeak, s.heapBytes());
      }
    }
    Double cpuAvg = cpuSpan > 0 ? cpuWeighted / cpuSpan : null;
    if (cpuPeak == null) {
      // A phase shorter than the sampling interval: its only rate is the best peak we have.
      cpuPeak = cpuPeakAnySpan;
    }
    return new PhaseResources(phase, n, cpuAvg, cpuPeak, memCount > 0 ? memSum / memCount : null, memPeak,
        heapCount > 0 ? heapSum / heapCount : null, heapPeak);
  }
}
