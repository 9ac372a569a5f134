package cifarserve.loadtest.run;

import cifarserve.loadtest.generator.PhasePlan;
import cifarserve.loadtest.generator.RequestSpec;
import java.net.URI;
import java.time.Duration;

/**
 * Everything one run needs, read once from the command line and passed down.
 *
 * @param requestLimit   measured requests (closed) or arrivals (open), or {@link PhasePlan#UNLIMITED}
 * @param duration       measured phase length, or null
 * @param rate           arrivals per second (open model), 0 for the closed model
 * @param warmupRequests requests sent before measuring (0 = none)
 * @param warmupDuration time spent sending before measuring (null = none)
 * @param interval       width of the per-interval rows (CSV, plots)
 * @param pid            target process to sample, or null
 * @param cgroup         target cgroup to sample, or null
 * @param container      Docker container to sample (resolved with docker inspect), or null
 * @param metricsUrl     target Prometheus endpoint to scrape, or null
 * @param transport      the generator's network transport
 */
public record LoadTestSettings(
    RequestSpec request,
    int connections,
    int threads,
    long requestLimit,
    Duration duration,
    double rate,
    long warmupRequests,
    Duration warmupDuration,
    Duration interval,
    boolean keepRequestLog,
    Long pid,
    String cgroup,
    String container,
    URI metricsUrl,
    Duration sampleInterval,
    Duration idleBefore,
    Duration idleAfter,
    boolean progress,
    ClientTransport transport) {

  public boolean openModel() {
    return rate > 0;
  }

  public boolean samplesResources() {
    return pid != null || cgroup != null || container != null || metricsUrl != null;
  }

  public boolean hasWarmup() {
    return warmupRequests > 0 || (warmupDuration != null && !warmupDuration.isZero());
  }
}
