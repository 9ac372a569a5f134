package cifarserve.inference;

import cifarserve.Addresses;
import cifarserve.cluster.ClusterDispatch;
import cifarserve.data.CifarImages;
import cifarserve.metrics.ServiceMetrics;
import cifarserve.model.ModelCatalog;
import cifarserve.model.ArtifactSignature;
import cifarserve.model.ArtifactStore;
import cifarserve.model.ModelVersion;
import cifarserve.model.OnnxModel;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the model and runs every prediction through ONNX Runtime ({@link OnnxModel}), with dynamic
 * batching (as Triton and TorchServe do).
 *
 * <p>Requests queue on the event loop (bounded: overflow fails at once with 503). Batches run on
 * {@code inference.lanes} worker threads, each with its own ONNX Runtime session of
 * {@code inference.threadsPerLane} intra-op threads (default: cores / lanes) and its own reused input
 * buffer. The default is one lane using every core; more lanes are for larger hosts, where one batch
 * cannot keep every core busy. When a lane is idle, queued
 * images go at once: a lone request never waits. While every
 * lane is busy, arrivals accumulate and go together to the next free lane, up to {@code maxBatchSize}
 * images. Only when requests arrive faster than one per {@code maxDelayMs} does a short batch wait (at
 * most {@code maxDelayMs} from its oldest request) for the batch to fill. Requests whose deadline
 * passed while queued are dropped unrun: their caller has already been answered with a timeout.
 *
 * <p>A batch takes a reference to the current model for its whole run ({@link OnnxModel#retain}), so
 * a batch never sees two models; a replaced model's sessions are closed when its last batch ends.
 *
 * <p>In a cluster it also takes work from, and hands work to, the other nodes ({@link ClusterDispatch}:
 * local first, one hop at most, run here if the hop fails), loads the cluster's current model at
 * start-up (publishing its own to the cluster if that one is newer), and checks the cluster's model
 * every {@code cluster.modelSyncMs} in case it missed an announcement.
 */
public final class InferenceVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(InferenceVerticle.class);
  public static final int QUEUE_FULL = 503;
  public static final int NOT_READY = 503;
  public static final int BAD_REQUEST = 400;

  private record Pending(Message<Buffer> message, ImageBatch images, long enqueuedNanos, long deadlineNanos) {
  }

  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private final AtomicInteger queuedImages = new AtomicInteger();
  private int maxBatchSize;
  private long maxDelayNanos;
  private int queueCapacity;
  private long timeoutNanos;
  private final List<Lane> lanes = new ArrayList<>();
  private int runningImages;
  private long fillTimer = -1;
  private long lastArrivalNanos;
  private double meanGapNanos = Double.MAX_VALUE;

  private ModelCatalog catalog;
  private volatile OnnxModel model;
  private int threadsPerLane;
  private String loadingVersion;
  private ClusterDispatch cluster;
  private long syncTimer = -1;
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();

  private Timer queueTime;
  private Timer computeTime;
  private DistributionSummary batchSizes;
  private MeterRegistry registry;

  @Override
  public Future<?> start() {
    JsonObject inference = config().getJsonObject("inference", new JsonObject());
    maxBatchSize = inference.getInteger("maxBatchSize", 64);
    maxDelayNanos = TimeUnit.MILLISECONDS.toNanos(inference.getInteger("maxDelayMs", 0));
    queueCapacity = inference.getInteger("queueCapacity", 256);
    timeoutNanos = TimeUnit.MILLISECONDS.toNanos(inference.getLong("timeoutMs", 10_000L));
    catalog = new ModelCatalog(vertx, new ArtifactStore(Path.of(config().getString("modelDir", "models"))),
        ArtifactSignature.from(config()));
    int cores = Runtime.getRuntime().availableProcessors();
    int laneCount = Math.max(1, inference.getInteger("lanes", 1));
    threadsPerLane = Math.max(1, inference.getInteger("threadsPerLane", Math.max(1, cores / laneCount)));
    for (int i = 0; i < laneCount; i++) {
      lanes.add(new Lane(i, vertx.createSharedWorkerExecutor("cifar-inference-" + i, 1, 10, TimeUnit.MINUTES),
          OnnxModel.inputBuffer(maxBatchSize)));
    }
    LOG.info("Inference: {} lane(s) of {} thread(s), maxBatchSize {}, maxDelayMs {}", laneCount, threadsPerLane,
        maxBatchSize, TimeUnit.NANOSECONDS.toMillis(maxDelayNanos));
    registerMeters();
    JsonObject clusterConfig = config().getJsonObject("cluster", new JsonObject());
    cluster = new ClusterDispatch(vertx, clusterConfig, registry);

    consumers.add(vertx.eventBus().<Buffer>localConsumer(Addresses.INFER, this::onRequest));
    if (vertx.isClustered()) {
      consumers.add(vertx.eventBus().<Buffer>consumer(ClusterDispatch.ADDRESS, this::onHandedOver));
      long syncMs = clusterConfig.getLong("modelSyncMs", 5_000L);
      if (syncMs > 0) {
        syncTimer = vertx.setPeriodic(syncMs, syncMs, id -> catalog.current()
            .onSuccess(current -> {
              if (current != null) {
                swapTo(current);
              }
            }));
      }
    }
    consumers.add(vertx.eventBus().<JsonObject>localConsumer(Addresses.MODEL_INFO, message -> {
      OnnxModel current = model;
      if (current == null) {
        message.fail(NOT_READY, "no model loaded yet");
      } else {
        message.reply(current.metadata());
      }
    }));
    consumers.add(vertx.eventBus().<JsonObject>consumer(Addresses.MODEL_READY, message -> swapTo(message.body())));

    // Load in the background: the HTTP side answers health (and 503 for inference) meanwhile.
    loadInitialModel().onFailure(e -> LOG.error("Could not load a model at start-up: {}", e.getMessage()));
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    if (syncTimer >= 0) {
      vertx.cancelTimer(syncTimer);
    }
    List<Future<Void>> unregistered = consumers.stream().map(MessageConsumer::unregister).toList();
    return Future.join(unregistered)
        .eventually(() -> Future.join(lanes.stream().map(lane -> lane.executor.close()).toList()));
  }

  private Future<Void> loadInitialModel() {
    Future<Optional<JsonObject>> local = vertx.executeBlocking(() -> catalog.repository().newestServable());
    Future<JsonObject> shared = vertx.isClustered() ? catalog.current() : Future.succeededFuture();
    return Future.all(local, shared).compose(both -> {
      JsonObject best = local.result().orElse(null);
      JsonObject fromCluster = shared.result();
      if (fromCluster != null && (best == null || ModelCatalog.isNewer(fromCluster, best))) {
        best = fromCluster;
      }
      if (best == null) {
        LOG.info("No model artifact in {} yet: waiting for one", catalog.repository().directory());
        return Future.succeededFuture();
      }
      JsonObject chosen = best;
      boolean shareLocal = vertx.isClustered() && chosen != fromCluster
          && (fromCluster == null || !fromCluster.getString("version").equals(chosen.getString("version")));
      return swapTo(chosen).compose(v -> {
        if (!shareLocal) {
          return Future.succeededFuture();
        }
        LOG.info("Sharing local model {} with the cluster (newer than the cluster's)", chosen.getString("version"));
        return catalog.announce(chosen);
      });
    });
  }

  /** Loads the given artifact (fetching it from the cluster if needed) and makes it current. */
  private Future<Void> swapTo(JsonObject metadata) {
    OnnxModel current = model;
    String version;
    try {
      version = ModelVersion.of(metadata).toString();
    } catch (ModelVersion.InvalidModelVersion e) {
      LOG.warn("Ignoring a model announcement: {}", e.getMessage());
      return Future.succeededFuture();
    }
    if (current != null && !ModelCatalog.isNewer(metadata, current.metadata())
        || current != null && current.version().equals(version)
        || version.equals(loadingVersion)) {
      return Future.succeededFuture();
    }
    loadingVersion = version;
    long started = System.nanoTime();
    // What is loaded is this node's own copy, or one whose signature and hashes verified.
    return catalog.ensureLocal(metadata)
        .compose(trusted -> vertx.executeBlocking(() ->
            catalog.repository().loadOnnx(trusted, lanes.size(), threadsPerLane)))
        // A session's first run allocates its buffers and starts its thread pool: pay it on every lane
        // here, before the model serves, not in a user's request.
        .compose(loaded -> Future.all(lanes.stream().map(lane -> lane.executor.executeBlocking(() -> {
          loaded.predict(lane.index, lane.input, 1);
          return null;
        })).toList()).map(loaded).onFailure(e -> loaded.retire()))
        .map(loaded -> {
          OnnxModel now = model;
          // Swaps complete on this event loop, one at a time: versions only move forward.
          if (now != null && !ModelCatalog.isNewer(metadata, now.metadata())) {
            loaded.retire();
            return null;
          }
          model = loaded;
          if (now != null) {
            now.retire(); // freed once the batches running on it end
          }
          return loaded;
        })
        .onSuccess(loaded -> {
          if (loaded != null) {
            LOG.info("Model {} loaded in {} ms (test accuracy {})", loaded.version(),
                (System.nanoTime() - started) / 1_000_000, metadata.getValue("accuracy"));
            vertx.eventBus().publish(Addresses.MODEL_LOADED, loaded.metadata());
          }
        })
        .onFailure(e -> {
          if (!(e instanceof ModelCatalog.ModelRefused)) { // refusals are logged (once) by the catalog
            LOG.error("Model {} could not be loaded: {}", version, e.getMessage());
          }
        })
        .onComplete(done -> {
          if (version.equals(loadingVersion)) {
            loadingVersion = null;
          }
        })
        .mapEmpty();
  }

  /** A request from this node's HTTP side: run here, or hand it to the cluster when busy. */
  private void onRequest(Message<Buffer> message) {
    ImageBatch images = accept(message);
    OnnxModel current = model;
    if (images == null) {
      return;
    }
    long deadline = System.nanoTime() + timeoutNanos;
    if (!cluster.shouldSpill(queuedImages.get() + runningImages, images.count())) {
      enqueue(message, images, deadline);
      return;
    }
    long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    cluster.forward(message.body(), current.version(), remainingMs).onComplete(hop -> {
      if (hop.succeeded()) {
        message.reply(hop.result().body(), new DeliveryOptions().setHeaders(hop.result().headers()));
      } else if (ClusterDispatch.runLocallyAfter(hop.cause())) {
        enqueue(message, images, deadline);
      } else {
        ReplyException failure = (ReplyException) hop.cause();
        message.fail(failure.failureCode(), failure.getMessage());
      }
    });
  }

  /** A request handed over by a node of the cluster (possibly this one): always runs here. */
  private void onHandedOver(Message<Buffer> message) {
    ImageBatch images = accept(message);
    OnnxModel current = model;
    if (images == null) {
      return;
    }
    String minVersion = message.headers().get(ClusterDispatch.MIN_VERSION_HEADER);
    if (!ClusterDispatch.acceptsVersion(current.version(), minVersion)) {
      message.fail(ClusterDispatch.OLDER_MODEL, "model " + current.version() + " is older than " + minVersion);
      return;
    }
    registry.counter("cifar_cluster_handed_over_total").increment();
    enqueue(message, images, System.nanoTime() + timeoutNanos);
  }

  /** The request's images, or null once the request has been failed (malformed, or no model yet). */
  private ImageBatch accept(Message<Buffer> message) {
    ImageBatch images;
    try {
      images = ImageBatch.decode(message.body());
    } catch (IllegalArgumentException e) {
      message.fail(BAD_REQUEST, e.getMessage());
      return null;
    }
    if (model == null) {
      message.fail(NOT_READY, "no model loaded yet");
      return null;
    }
    return images;
  }

  private void enqueue(Message<Buffer> message, ImageBatch images, long deadlineNanos) {
    if (queuedImages.get() + images.count() > queueCapacity) {
      registry.counter("cifar_inference_rejected_total", "reason", "queue-full").increment();
      message.fail(QUEUE_FULL, "inference queue full (" + queueCapacity + " images)");
      return;
    }
    long now = System.nanoTime();
    if (lastArrivalNanos != 0) {
      double gap = now - lastArrivalNanos;
      meanGapNanos = meanGapNanos == Double.MAX_VALUE ? gap : 0.8 * meanGapNanos + 0.2 * gap;
    }
    lastArrivalNanos = now;
    queue.add(new Pending(message, images, now, deadlineNanos));
    queuedImages.addAndGet(images.count());
    dispatch();
  }

  /** Starts a batch on a free lane, if there is one, unless the batch should wait to fill. */
  private void dispatch() {
    Lane lane = freeLane();
    if (lane == null || queue.isEmpty()) {
      return;
    }
    long now = System.nanoTime();
    long oldestWait = now - queue.peekFirst().enqueuedNanos();
    boolean full = queuedImages.get() >= maxBatchSize;
    boolean busyTraffic = meanGapNanos < maxDelayNanos;
    if (!full && busyTraffic && oldestWait < maxDelayNanos) {
      if (fillTimer < 0) {
        long delayMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(maxDelayNanos - oldestWait));
        fillTimer = vertx.setTimer(delayMs, id -> {
          fillTimer = -1;
          dispatch();
        });
      }
      return;
    }
    if (fillTimer >= 0) {
      vertx.cancelTimer(fillTimer);
      fillTimer = -1;
    }
    List<Pending> batch = takeBatch(now);
    if (!batch.isEmpty()) {
      runBatch(lane, batch);
    }
    dispatch(); // another lane may take what is left
  }

  private Lane freeLane() {
    for (Lane lane : lanes) {
      if (!lane.busy) {
        return lane;
      }
    }
    return null;
  }

  private List<Pending> takeBatch(long now) {
    List<Pending> batch = new ArrayList<>();
    int images = 0;
    while (!queue.isEmpty()) {
      Pending next = queue.peekFirst();
      if (!batch.isEmpty() && images + next.images().count() > maxBatchSize) {
        break;
      }
      queue.pollFirst();
      queuedImages.addAndGet(-next.images().count());
      if (now > next.deadlineNanos()) {
        registry.counter("cifar_inference_rejected_total", "reason", "expired").increment();
        continue;
      }
      batch.add(next);
      images += next.images().count();
      queueTime.record(now - next.enqueuedNanos(), TimeUnit.NANOSECONDS);
    }
    return batch;
  }

  private void runBatch(Lane lane, List<Pending> batch) {
    lane.busy = true;
    int total = batch.stream().mapToInt(p -> p.images().count()).sum();
    runningImages += total;
    batchSizes.record(total);
    lane.executor.executeBlocking(() -> {
      OnnxModel current = retainCurrentModel();
      try {
        FloatBuffer input = lane.inputFor(total);
        for (Pending pending : batch) {
          pending.images().writeUnitInto(input);
        }
        long started = System.nanoTime();
        float[][] probabilities = current.predict(lane.index, input, total);
        computeTime.record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
        return new BatchResult(current.version(), probabilities);
      } finally {
        current.release();
      }
    }).onComplete(result -> {
      lane.busy = false;
      runningImages -= total;
      if (result.succeeded()) {
        reply(batch, result.result());
      } else {
        LOG.error("Inference batch of {} images failed", total, result.cause());
        for (Pending pending : batch) {
          pending.message().fail(500, "inference failed: " + result.cause().getMessage());
        }
      }
      dispatch();
    });
  }

  private record BatchResult(String version, float[][] probabilities) {
  }

  /** The current model, with a reference held for one batch (a swap may retire it meanwhile). */
  private OnnxModel retainCurrentModel() {
    while (true) {
      OnnxModel current = model;
      if (current.retain()) {
        return current;
      }
      // Retired and freed between the read and retain(): the field already names its successor.
    }
  }

  /**
   * One inference worker thread, its session index, its input buffer (reused by every batch; only its
   * thread touches it) and whether a batch is running on it (touched on the event loop only).
   */
  private static final class Lane {
    final int index;
    final WorkerExecutor executor;
    FloatBuffer input;
    boolean busy;

    Lane(int index, WorkerExecutor executor, FloatBuffer input) {
      this.index = index;
      this.executor = executor;
      this.input = input;
    }

    /** The lane's buffer, emptied, with room for {@code images} (a batch may exceed maxBatchSize: one big request). */
    FloatBuffer inputFor(int images) {
      if (input.capacity() < images * CifarImages.PIXELS_PER_IMAGE) {
        input = OnnxModel.inputBuffer(images);
      }
      return input.clear();
    }
  }

  private void reply(List<Pending> batch, BatchResult result) {
    int at = 0;
    DeliveryOptions options = new DeliveryOptions().addHeader(Predictions.MODEL_VERSION_HEADER, result.version());
    for (Pending pending : batch) {
      int count = pending.images().count();
      float[][] rows = new float[count][];
      System.arraycopy(result.probabilities(), at, rows, 0, count);
      at += count;
      pending.message().reply(Predictions.encode(rows), options);
      registry.counter("cifar_inference_images_total").increment(count);
    }
  }

  private void registerMeters() {
    registry = ServiceMetrics.registry();
    queueTime = Timer.builder("cifar_inference_queue_time").description("time a request waited for a batch")
        .publishPercentileHistogram().register(registry);
    computeTime = Timer.builder("cifar_inference_compute_time").description("time the network took per batch")
        .publishPercentileHistogram().register(registry);
    batchSizes = DistributionSummary.builder("cifar_inference_batch_size").description("images per batch")
        .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128).register(registry);
    Gauge.builder("cifar_inference_queue_images", queuedImages, AtomicInteger::get)
        .description("images waiting for the inference worker").register(registry);
    Gauge.builder("cifar_model_loaded", this, v -> v.model == null ? 0 : 1)
        .description("1 when a model is loaded and serving").register(registry);
    if (vertx.isClustered()) {
      Gauge.builder("cifar_cluster_nodes", vertx, v -> ((VertxInternal) v).clusterManager().getNodes().size())
          .description("members of the cluster as this node sees them").register(registry);
    }
  }
}
