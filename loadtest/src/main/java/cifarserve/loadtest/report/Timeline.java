package cifarserve.loadtest.report;

import cifarserve.loadtest.generator.IntervalSeries;
import cifarserve.loadtest.resources.ResourceSample;
import cifarserve.loadtest.run.RunResult;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.AbstractHistogram;

/**
 * Latency intervals and resource samples joined on one timeline: seconds from the start of the
 * measured phase (negative while idle before it), one row per {@code --interval}.
 */
public final class Timeline {
  /** One row; latency in ms (from intended send time), memory in bytes; NaN/null where nothing was measured. */
  public record Row(double startSeconds, double endSeconds, String phase, long responses, long failures,
      double throughput, double latencyMean, double latencyP50, double latencyP90, double latencyP99,
      double latencyMax, Double cpuPercent, Double memoryBytes, Double heapBytes) {
  }

  private Timeline() {
  }

  public static List<Row> rows(RunResult r) {
    IntervalSeries series = r.measured().intervals();
    long width = series.intervalNanos();
    List<IntervalSeries.Bucket> buckets = series.buckets();
    List<ResourceSample> samples = r.resourceSamples();
    long first = 0;
    long last = buckets.size() - 1;
    for (ResourceSample s : samples) {
      long index = Math.floorDiv(s.nanoTime() - r.measureStartNanos(), width);
      first = Math.min(first, index);
      last = Math.max(last, index);
    }
    List<Row> rows = new ArrayList<>();
    double widthSeconds = width / 1e9;
    for (long i = first; i <= last; i++) {
      long from = r.measureStartNanos() + i * width;
      long to = from + width;
      IntervalSeries.Bucket b = i >= 0 && i < buckets.size() ? buckets.get((int) i) : null;
      double cpuWeighted = 0;
      long cpuSpan = 0;
      double memSum = 0;
      int memN = 0;
      double heapSum = 0;
      int heapN = 0;
      String phase = null;
      for (ResourceSample s : samples) {
        if (s.nanoTime() < from || s.nanoTime() >= to) {
          continue;
        }
        phase = s.phase();
        if (s.cpuPercent() != null && s.spanNanos() > 0) {
          cpuWeighted += s.cpuPercent() * s.spanNanos();
          cpuSpan += s.spanNanos();
        }
        if (s.memoryBytes() != null) {
          memSum += s.memoryBytes();
          memN++;
        }
        if (s.heapBytes() != null) {
          heapSum += s.heapBytes();
          heapN++;
        }
      }
      if (phase == null) {
        phase = i < 0 ? "idle" : b != null ? "busy" : "after";
      }
      AbstractHistogram h = b == null ? null : b.latencyMicros();
      boolean hasLatency = h != null && h.getTotalCount() > 0;
      long responses = b == null ? 0 : b.responses();
      double actualWidth = Math.min(widthSeconds, Math.max(1e-9, (r.measureEndNanos() - from) / 1e9));
      rows.add(new Row(i * widthSeconds, (i + 1) * widthSeconds, phase, responses, b == null ? 0 : b.failures(),
          b == null ? 0 : responses / (i == buckets.size() - 1 ? actualWidth : widthSeconds),
          hasLatency ? h.getMean() / 1000 : Double.NaN,
          hasLatency ? h.getValueAtPercentile(50) / 1000.0 : Double.NaN,
          hasLatency ? h.getValueAtPercentile(90) / 1000.0 : Double.NaN,
          hasLatency ? h.getValueAtPercentile(99) / 1000.0 : Double.NaN,
          hasLatency ? h.getMaxValue() / 1000.0 : Double.NaN,
          cpuSpan > 0 ? cpuWeighted / cpuSpan : null,
          memN > 0 ? memSum / memN : null,
          heapN > 0 ? heapSum / heapN : null));
    }
    return rows;
  }
}
