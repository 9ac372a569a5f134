package cifarserve.loadtest.run;

import cifarserve.loadtest.generator.RunRecorder;
import cifarserve.loadtest.resources.PhaseResources;
import cifarserve.loadtest.resources.ResourceSample;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The outcome of a run: the merged measured-phase figures, the phase's place on the timeline
 * (nanoTime, the clock of the resource samples too), and the resource samples.
 */
public record RunResult(
    LoadTestSettings settings,
    Instant startedAt,
    RunRecorder measured,
    long measureStartNanos,
    long measureEndNanos,
    long warmupFinished,
    String resourceTarget,
    List<ResourceSample> resourceSamples,
    long resourceReadFailures,
    String resourceLastFailure,
    double generatorCpuSeconds,
    double generatorJitSeconds,
    String generatorTransport) {

  public static final List<String> PHASES = List.of("idle", "warmup", "busy", "after");

  public double elapsedSeconds() {
    return Math.max(1e-9, (measureEndNanos - measureStartNanos) / 1e9);
  }

  /** Answered requests per second over the measured phase. */
  public double throughput() {
    return measured.answered() / elapsedSeconds();
  }

  /** Seconds from the start of the measured phase (negative while idle before it). */
  public double secondsOnTimeline(long nanoTime) {
    return (nanoTime - measureStartNanos) / 1e9;
  }

  /** Phase name -> averages and peaks, for the phases that have samples. */
  public Map<String, PhaseResources> resourcesByPhase() {
    Map<String, PhaseResources> map = new LinkedHashMap<>();
    long interval = settings.sampleInterval().toNanos();
    for (String phase : PHASES) {
      PhaseResources p = PhaseResources.of(phase, resourceSamples, interval);
      if (p.samples() > 0) {
        map.put(phase, p);
      }
    }
    return map;
  }

  /** This tool's own CPU use during the measured phase, in percent of one core: near 100 % per event loop means the generator, not the target, sets the pace. */
  public double generatorCpuPercent() {
    return 100 * generatorCpuSeconds / elapsedSeconds();
  }

  /** This tool's CPU time per finished request, microseconds. */
  public double generatorCpuMicrosPerRequest() {
    return measured.finished() == 0 ? 0 : generatorCpuSeconds * 1e6 / measured.finished();
  }

  /** Failed requests (timeouts, connection errors, non-2xx, other) over finished requests, in percent. */
  public double failurePercent() {
    long finished = measured.finished();
    return finished == 0 ? 0 : 100.0 * measured.failures() / finished;
  }
}
