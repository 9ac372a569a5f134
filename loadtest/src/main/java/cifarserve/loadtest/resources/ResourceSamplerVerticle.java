package cifarserve.loadtest.resources;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Samples the target's CPU and memory at a fixed interval through its probes, labelling each sample
 * with the current phase (idle before the load, warmup, busy, after). A phase change takes a sample
 * at once, so every phase is bounded by samples taken at its exact start and end. Samples are taken
 * one at a time (a slow /metrics answer makes the next tick skip rather than pile up).
 */
public final class ResourceSamplerVerticle extends VerticleBase {
  private final List<ResourceProbe> probes;
  private final long intervalMillis;
  private final List<ResourceSample> samples = new ArrayList<>();
  private String phase = "idle";
  private Future<Void> lastSample = Future.succeededFuture();
  private boolean sampling;
  private long timerId = -1;
  private long lastSampleNanos;
  private ResourceReading lastCpu;
  private long readFailures;
  private String lastFailure;

  public ResourceSamplerVerticle(List<ResourceProbe> probes, long intervalMillis) {
    this.probes = List.copyOf(probes);
    this.intervalMillis = intervalMillis;
  }

  public String describeTarget() {
    return probes.stream().map(ResourceProbe::describe).collect(Collectors.joining(" + "));
  }

  @Override
  public Future<?> start() {
    Future<Void> first = sampleNow();
    timerId = vertx.setPeriodic(intervalMillis, id -> {
      if (!sampling) {
        sampleNow();
      }
    });
    return first;
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timerId);
    return Future.succeededFuture();
  }

  /** Closes the current phase with a sample, then labels later samples with {@code next}. */
  public Future<Void> markPhase(String next) {
    Promise<Void> promise = Promise.promise();
    context.runOnContext(v -> sampleNow().onComplete(ar -> {
      phase = next;
      promise.complete();
    }));
    return promise.future();
  }

  /** Takes a last sample and stops the timer; the samples are final once this completes. */
  public Future<List<ResourceSample>> finish() {
    Promise<List<ResourceSample>> promise = Promise.promise();
    context.runOnContext(v -> sampleNow().onComplete(ar -> {
      vertx.cancelTimer(timerId);
      promise.complete(List.copyOf(samples));
    }));
    return promise.future();
  }

  public long readFailures() {
    return readFailures;
  }

  public String lastFailure() {
    return lastFailure;
  }

  private Future<Void> sampleNow() {
    lastSample = lastSample.transform(ignored -> takeSample());
    return lastSample;
  }

  private Future<Void> takeSample() {
    sampling = true;
    String label = phase;
    List<Future<ResourceReading>> reads = new ArrayList<>(probes.size());
    for (ResourceProbe probe : probes) {
      reads.add(probe.read().recover(failure -> {
        readFailures++;
        lastFailure = probe.describe() + ": " + failure.getMessage();
        return Future.succeededFuture(ResourceReading.empty(System.nanoTime()));
      }));
    }
    return Future.join(reads).transform(ignored -> {
      ResourceReading combined = null;
      for (Future<ResourceReading> read : reads) {
        ResourceReading r = read.result();
        combined = combined == null ? r : combined.orElse(r);
      }
      if (combined != null) {
        record(label, combined);
      }
      sampling = false;
      return Future.succeededFuture();
    });
  }

  private void record(String label, ResourceReading now) {
    long span = lastSampleNanos == 0 ? 0 : now.nanoTime() - lastSampleNanos;
    Double cpu = null;
    if (now.cpuSeconds() != null && lastCpu != null && now.nanoTime() > lastCpu.nanoTime()) {
      // Rate over the time since the last cumulative reading (a failed read in between widens it).
      span = now.nanoTime() - lastCpu.nanoTime();
      cpu = Math.max(0, (now.cpuSeconds() - lastCpu.cpuSeconds()) * 1e9 / span * 100);
    } else if (now.cpuPercentNow() != null) {
      cpu = now.cpuPercentNow();
      if (span == 0) {
        span = intervalMillis * 1_000_000;
      }
    }
    samples.add(new ResourceSample(now.nanoTime(), label, span, cpu, now.memoryBytes(), now.heapBytes()));
    lastSampleNanos = now.nanoTime();
    if (now.cpuSeconds() != null) {
      lastCpu = now;
    }
  }
}
