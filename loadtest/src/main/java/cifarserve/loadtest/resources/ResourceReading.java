package cifarserve.loadtest.resources;

/**
 * What one probe saw at one instant; any field may be null when the source does not provide it.
 *
 * @param nanoTime       System.nanoTime() when the counters were read
 * @param cpuSeconds     cumulative CPU time of the target (from /proc or a cgroup); rates come from deltas
 * @param cpuPercentNow  instantaneous CPU % reported by the target itself (Prometheus), 100 = one core
 * @param memoryBytes    resident memory (RSS of the PID, or the cgroup's memory.current)
 * @param heapBytes      JVM heap in use (Prometheus jvm_memory_used_bytes{area="heap"})
 */
public record ResourceReading(long nanoTime, Double cpuSeconds, Double cpuPercentNow, Long memoryBytes, Long heapBytes) {
  public static ResourceReading empty(long nanoTime) {
    return new ResourceReading(nanoTime, null, null, null, null);
  }

  /** Fills this reading's gaps from another probe's reading of the same instant. */
  public ResourceReading orElse(ResourceReading other) {
    return new ResourceReading(nanoTime,
        cpuSeconds != null ? cpuSeconds : other.cpuSeconds,
        cpuPercentNow != null ? cpuPercentNow : other.cpuPercentNow,
        memoryBytes != null ? memoryBytes : other.memoryBytes,
        heapBytes != null ? heapBytes : other.heapBytes);
  }
}
