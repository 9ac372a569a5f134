package cifarserve.inference;

import cifarserve.Addresses;
import cifarserve.cluster.ClusterDispatch;
import cifarserve.config.ServiceSettings;
import cifarserve.metrics.ServiceMetrics;
import cifarserve.model.ModelCatalog;
import cifarserve.model.ArtifactSignature;
import cifarserve.model.ArtifactStore;
import cifarserve.model.OnnxModel;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The event-bus side of inference: takes requests from this node's HTTP verticle (and, in a cluster,
 * from other nodes), hands them to the {@link Batcher} that runs {@link OnnxModel} batches, and keeps
 * the served model current through {@link ModelSwitch} (the newest artifact, swaps on announcements).
 *
 * <p>In a cluster it hands work to other nodes when busy ({@link ClusterDispatch}), loads the cluster's
 * model at start-up (sharing its own if newer) and checks it every {@code cluster.modelSyncMs}.
 */
public final class InferenceVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(InferenceVerticle.class);
  /** A model load (read, verify, one ONNX Runtime session per lane) takes well under a second here. */
  private static final long STOP_WAIT_FOR_LOAD_SECONDS = 60;
  public static final int BAD_REQUEST = 400;
  private static final DeliveryOptions LOCAL_RESULT = new DeliveryOptions().setCodecName(LocalCodec.RESULT.name());

  private final ServiceSettings settings;
  private Batcher batcher;
  private long timeoutNanos;
  private ModelCatalog catalog;
  private ModelSwitch models;
  private ClusterDispatch cluster;
  private long syncTimer = -1;
  private final List<MessageConsumer<?>> consumers = new ArrayList<>();
  private MeterRegistry registry;
  /** The initial model, loaded since the process started (the function); null: load it here. */
  private final CompletionStage<Optional<OnnxModel>> preloaded;

  public InferenceVerticle(ServiceSettings settings) {
    this(settings, null);
  }

  /**
   * With the initial model already loading ({@link cifarserve.model.ModelPreload}): served once it is
   * ready instead of loading the newest artifact here. For a process outside a cluster.
   */
  public InferenceVerticle(ServiceSettings settings, CompletionStage<Optional<OnnxModel>> preloaded) {
    this.settings = settings;
    this.preloaded = preloaded;
  }

  @Override
  public Future<?> start() {
    ServiceSettings.Inference inference = settings.inference();
    timeoutNanos = TimeUnit.MILLISECONDS.toNanos(inference.timeoutMs());
    catalog = new ModelCatalog(vertx, new ArtifactStore(settings.modelDir()), ArtifactSignature.from(settings.json()));
    Batcher.Settings batching = new Batcher.Settings(inference.maxBatchSize(),
        TimeUnit.MILLISECONDS.toNanos(inference.maxDelayMs()), inference.queueCapacity(), inference.lanes());
    registry = ServiceMetrics.registry();
    batcher = new Batcher(batching, new InferenceMeters(registry));
    InferenceMeters.gauges(registry, batcher, vertx);
    models = new ModelSwitch(vertx, context, settings, catalog, batcher, preloaded);
    LOG.info("Inference: {} lane(s) of {} thread(s), {}", inference.lanes(), inference.threadsPerLane(), batching);
    cluster = new ClusterDispatch(vertx, settings.cluster(), registry);

    LocalCodec.register(vertx.eventBus());
    consumers.add(vertx.eventBus().<ImageBatch>localConsumer(Addresses.INFER, this::onRequest));
    if (vertx.isClustered()) {
      consumers.add(vertx.eventBus().<Buffer>consumer(ClusterDispatch.ADDRESS, this::onHandedOver));
      long syncMs = settings.cluster().modelSyncMs();
      if (syncMs > 0) {
        syncTimer = vertx.setPeriodic(syncMs, syncMs, id -> catalog.current()
            .onSuccess(current -> {
              if (current != null) {
                models.swapTo(current);
              }
            }));
      }
    }
    consumers.add(vertx.eventBus().<JsonObject>localConsumer(Addresses.MODEL_INFO, message -> {
      OnnxModel current = servedOrFail(message);
      if (current != null) {
        message.reply(current.metadata());
      }
    }));
    consumers.add(vertx.eventBus().<JsonObject>consumer(Addresses.MODEL_READY, message -> models.swapTo(message.body())));

    // Load in the background: the HTTP side answers health (and 503 for inference) meanwhile.
    models.loadInitial().onFailure(e -> LOG.error("Could not load a model at start-up: {}", e.getMessage()));
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    if (syncTimer >= 0) {
      vertx.cancelTimer(syncTimer);
    }
    List<Future<Void>> unregistered = consumers.stream().map(MessageConsumer::unregister).toList();
    // no new loads once the consumers are gone; a load under way finishes (bounded) before the batcher closes
    return Future.join(unregistered)
        .eventually(() -> models.settled().timeout(STOP_WAIT_FOR_LOAD_SECONDS, TimeUnit.SECONDS).recover(e -> {
          LOG.warn("A model load was still running {} s into the stop: stopping anyway", STOP_WAIT_FOR_LOAD_SECONDS);
          return Future.succeededFuture();
        }))
        .eventually(() -> vertx.executeBlocking(() -> {
          batcher.close();
          return null;
        }))
        .onComplete(done -> LocalCodec.unregister(vertx.eventBus()));
  }


  /** A request from this node's HTTP side, images as decoded there: run here, or hand it to the cluster when busy. */
  private void onRequest(Message<ImageBatch> message) {
    ImageBatch images = message.body();
    OnnxModel current = servedOrFail(message);
    if (current == null) {
      return;
    }
    long deadline = System.nanoTime() + Math.min(timeoutNanos, remainingNanos(message));
    if (!cluster.shouldSpill(batcher.load(), images.count())) {
      enqueue(message, images, deadline, true);
      return;
    }
    long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    // Only here does a request get encoded: it is about to cross to another node.
    cluster.forward(images.encode(), current.version(), remainingMs).onComplete(hop -> {
      if (hop.succeeded()) {
        Message<Buffer> answer = hop.result();
        message.reply(new Batcher.Result(answer.headers().get(Predictions.MODEL_VERSION_HEADER),
            Predictions.decode(answer.body())), LOCAL_RESULT);
      } else if (ClusterDispatch.runLocallyAfter(hop.cause())) {
        enqueue(message, images, deadline, true);
      } else {
        ReplyException failure = (ReplyException) hop.cause();
        message.fail(failure.failureCode(), failure.getMessage());
      }
    });
  }

  /** What is left of the request's deadline, which the HTTP side started when its body arrived. */
  private static long remainingNanos(Message<?> message) {
    String ms = message.headers().get(Addresses.DEADLINE_MS_HEADER);
    return ms == null ? Long.MAX_VALUE : TimeUnit.MILLISECONDS.toNanos(Long.parseLong(ms));
  }

  /** A request handed over by a node of the cluster (possibly this one), in the wire format: always runs here. */
  private void onHandedOver(Message<Buffer> message) {
    ImageBatch images;
    try {
      images = ImageBatch.decode(message.body());
    } catch (IllegalArgumentException e) {
      message.fail(BAD_REQUEST, e.getMessage());
      return;
    }
    OnnxModel current = servedOrFail(message);
    if (current == null) {
      return;
    }
    String minVersion = message.headers().get(ClusterDispatch.MIN_VERSION_HEADER);
    if (!ClusterDispatch.acceptsVersion(current.version(), minVersion)) {
      message.fail(ClusterDispatch.OLDER_MODEL, "model " + current.version() + " is older than " + minVersion);
      return;
    }
    registry.counter("cifar_cluster_handed_over_total").increment();
    enqueue(message, images, System.nanoTime() + timeoutNanos, false);
  }

  /** The served model, or null once {@code message} has been failed with 503 (none loaded yet). */
  private OnnxModel servedOrFail(Message<?> message) {
    OnnxModel current = models.served();
    if (current == null) {
      message.fail(BatchFailure.Reason.NOT_READY.statusCode, "no model loaded yet");
    }
    return current;
  }

  /**
   * Runs the request's images in a batch and replies with their probabilities, or the typed failure:
   * as the object itself to this node's HTTP side ({@code local}), in the wire format to another node.
   */
  private void enqueue(Message<?> message, ImageBatch images, long deadlineNanos, boolean local) {
    Future.fromCompletionStage(batcher.submit(images, deadlineNanos), context).onComplete(answer -> {
      if (answer.succeeded()) {
        registry.counter("cifar_inference_images_total").increment(images.count());
        Batcher.Result result = answer.result();
        if (local) {
          message.reply(result, LOCAL_RESULT);
        } else {
          message.reply(Predictions.encode(result.probabilities()),
              new DeliveryOptions().addHeader(Predictions.MODEL_VERSION_HEADER, result.version()));
        }
      } else if (answer.cause() instanceof BatchFailure failure) {
        if (failure.reason() == BatchFailure.Reason.FAILED) {
          LOG.error("Inference batch failed", failure.getCause());
        }
        message.fail(failure.reason().statusCode, failure.getMessage());
      } else {
        message.fail(500, "inference failed");
      }
    });
  }
}
