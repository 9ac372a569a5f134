package cifarserve.loadtest.cli;

import java.time.Duration;
import java.net.URI;
import picocli.CommandLine.Option;

/** Which target to sample for CPU and memory (a process, a cgroup, a container, Prometheus), and when. */
final class SamplingOptions {
  @Option(names = "--pid", paramLabel = "PID", description = "Sample this process's CPU and RSS from /proc.")
  Long pid;

  @Option(names = "--cgroup", paramLabel = "PATH", description = "Sample this cgroup (v2 or v1): a directory or a path under /sys/fs/cgroup.")
  String cgroup;

  @Option(names = "--container", paramLabel = "NAME", description = "Sample this Docker container (resolved with docker inspect).")
  String container;

  @Option(names = "--metrics", description = "Also scrape the target's Prometheus endpoint at <scheme://host:port>/metrics.")
  boolean metrics;

  @Option(names = "--metrics-url", paramLabel = "URL", description = "Scrape this Prometheus endpoint (CPU, JVM heap).")
  URI metricsUrl;

  @Option(names = "--sample-interval", paramLabel = "D", defaultValue = "250ms", converter = DurationConverter.class,
      description = "Resource sampling interval (default ${DEFAULT-VALUE}).")
  Duration sampleInterval;

  @Option(names = "--idle-before", paramLabel = "D", defaultValue = "2s", converter = DurationConverter.class,
      description = "Sample the idle target this long before the load (default ${DEFAULT-VALUE}; only when sampling).")
  Duration idleBefore;

  @Option(names = "--idle-after", paramLabel = "D", defaultValue = "2s", converter = DurationConverter.class,
      description = "Keep sampling this long after the load (default ${DEFAULT-VALUE}; only when sampling).")
  Duration idleAfter;
}
