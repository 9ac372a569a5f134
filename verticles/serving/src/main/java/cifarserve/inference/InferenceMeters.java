package cifarserve.inference;

import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import java.util.concurrent.TimeUnit;

/** The batcher's figures as Prometheus meters (the names dashboards and tests know). */
final class InferenceMeters implements BatchListener {
  private final MeterRegistry registry;
  private final Timer queueTime;
  private final Timer computeTime;
  private final DistributionSummary batchSizes;

  InferenceMeters(MeterRegistry registry) {
    this.registry = registry;
    queueTime = Timer.builder("cifar_inference_queue_time").description("time a request waited for a batch")
        .publishPercentileHistogram().register(registry);
    computeTime = Timer.builder("cifar_inference_compute_time").description("time the network took per batch")
        .publishPercentileHistogram().register(registry);
    batchSizes = DistributionSummary.builder("cifar_inference_batch_size").description("images per batch")
        .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128).register(registry);
  }

  /** Gauges read from the batcher (and the cluster, when Vert.x is clustered). */
  static void gauges(MeterRegistry registry, Batcher batcher, Vertx vertx) {
    Gauge.builder("cifar_inference_queue_images", batcher, Batcher::queuedImages)
        .description("images waiting for the inference worker").register(registry);
    Gauge.builder("cifar_model_loaded", batcher, b -> b.current() == null ? 0 : 1)
        .description("1 when a model is loaded and serving").register(registry);
    if (vertx.isClustered()) {
      Gauge.builder("cifar_cluster_nodes", vertx, v -> ((VertxInternal) v).clusterManager().getNodes().size())
          .description("members of the cluster as this node sees them").register(registry);
    }
  }

  @Override
  public void queued(long waitedNanos) {
    queueTime.record(waitedNanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void batchRun(int images, long computeNanos) {
    batchSizes.record(images);
    computeTime.record(computeNanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void rejected(BatchFailure.Reason reason) {
    if (reason == BatchFailure.Reason.QUEUE_FULL || reason == BatchFailure.Reason.TIMEOUT) {
      registry.counter("cifar_inference_rejected_total", "reason",
          reason == BatchFailure.Reason.QUEUE_FULL ? "queue-full" : "expired").increment();
    }
  }
}
