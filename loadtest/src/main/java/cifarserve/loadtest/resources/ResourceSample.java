package cifarserve.loadtest.resources;

/**
 * One point of the resource timeline.
 *
 * @param nanoTime    when it was read (System.nanoTime(), the clock the latency samples use)
 * @param phase       idle, warmup, busy or after
 * @param spanNanos   time since the previous sample (what {@code cpuPercent} averages over); 0 for the first
 * @param cpuPercent  CPU use over the span (100 = one core), null when unknown
 * @param memoryBytes RSS or cgroup memory
 * @param heapBytes   JVM heap in use
 */
public record ResourceSample(long nanoTime, String phase, long spanNanos, Double cpuPercent, Long memoryBytes,
    Long heapBytes) {
}
