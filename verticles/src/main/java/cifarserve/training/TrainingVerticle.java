package cifarserve.training;

import cifarserve.Addresses;
import cifarserve.config.ServiceSettings;
import cifarserve.data.Datasets;
import cifarserve.metrics.ServiceMetrics;
import cifarserve.model.ArtifactSignature;
import cifarserve.model.ModelCatalog;
import cifarserve.model.ModelRepository;
import cifarserve.model.ModelVersion;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Lock;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains models on its own worker pool, never on an event loop. It publishes progress, saves the
 * artifact, and announces it (ModelCatalog: shared map + MODEL_READY), so every inference verticle,
 * on this node or any other, swaps it in. A failed run leaves the serving model untouched.
 *
 * <p>Only one run at a time in the whole cluster: runs take the cluster-wide lock
 * {@code cifar.training}; a node that cannot get it answers "already training" (409).
 *
 * <p>With {@code trainOnStart}, a node trains when neither it nor the cluster has a model. If another
 * node holds the lock, it keeps waiting for the lock (in bounded attempts of
 * {@code cluster.trainerLockWaitMs}) until a model appears; once it holds the lock it checks again
 * and trains only if there is still no model. Hazelcast releases the lock of a member that dies, so
 * when the trainer is killed mid-run a waiting node takes over.
 */
public final class TrainingVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(TrainingVerticle.class);
  static final String LOCK = "cifar.training";
  public static final int ALREADY_TRAINING = 409;

  private final ServiceSettings settings;
  private WorkerExecutor trainingPool;
  private ModelCatalog catalog;
  private ModelRepository repository;
  private volatile TrainingProgress progress = TrainingProgress.idle();
  private final AtomicBoolean running = new AtomicBoolean();
  private final AtomicBoolean cancelled = new AtomicBoolean();
  private JsonObject lastResult;
  private volatile boolean stopped;
  /** This node's clock; versions still order after the cluster's current model when it is behind. */
  private final Clock clock;

  public TrainingVerticle(ServiceSettings settings) {
    this(settings, Clock.systemUTC());
  }

  TrainingVerticle(ServiceSettings settings, Clock clock) {
    this.settings = settings;
    this.clock = clock;
  }

  @Override
  public Future<?> start() {
    repository = new ModelRepository(settings.modelDir());
    catalog = new ModelCatalog(vertx, repository, ArtifactSignature.from(settings.json()));
    trainingPool = vertx.createSharedWorkerExecutor("cifar-training", 1, 7, TimeUnit.DAYS);
    registerMeters(ServiceMetrics.registry());
    vertx.eventBus().<JsonObject>localConsumer(Addresses.TRAINING_STATUS, this::onStatus);
    vertx.eventBus().<JsonObject>localConsumer(Addresses.TRAINING_START, this::onStart);
    vertx.eventBus().<JsonObject>localConsumer(Addresses.TRAINING_CANCEL, this::onCancel);

    if (settings.trainOnStart()) {
      trainIfNoModel();
    }
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    stopped = true;
    cancelled.set(true);
    return trainingPool.close();
  }

  /** True when this node or the cluster has a model. */
  private Future<Boolean> anyModel() {
    Future<Boolean> localModel = vertx.executeBlocking(() -> catalog.repository().newest().isPresent());
    Future<JsonObject> clusterModel = vertx.isClustered() ? catalog.current() : Future.succeededFuture();
    return Future.all(localModel, clusterModel).map(both -> localModel.result() || clusterModel.result() != null);
  }

  /**
   * Trains once at start-up when neither this node nor the cluster has a model; while another node
   * trains, waits for its lock, so that this node takes over if that one dies before announcing.
   */
  private void trainIfNoModel() {
    trainIfNoModel(settings.cluster().trainerLockWaitMs(), 0);
  }

  private void trainIfNoModel(long lockWaitMs, int attempt) {
    if (stopped) {
      return;
    }
    anyModel().compose(has -> {
      if (has) {
        if (attempt > 0) {
          LOG.info("A model is available now: not training at start-up");
          if (!running.get()) {
            progress = TrainingProgress.idle();
          }
        }
        return Future.succeededFuture();
      }
      if (running.get()) {
        return retryLater(lockWaitMs, attempt); // a POST /train run on this node is under way
      }
      return vertx.sharedData().getLockWithTimeout(LOCK, attempt == 0 ? 100 : lockWaitMs).transform(got -> {
        if (got.failed()) {
          if (attempt == 0) {
            LOG.info("No model yet; another node is training: waiting for its model (taking over if it dies)");
          }
          if (!running.get()) {
            progress = TrainingProgress.phase(TrainingProgress.IDLE, 0, 0,
                "waiting for the cluster's trainer lock: another node is training");
          }
          return retryLater(0, attempt);
        }
        Lock lock = got.result();
        // Re-checked under the lock: the previous holder may have announced a model before it let go.
        return anyModel().compose(hasNow -> {
          if (hasNow || !running.compareAndSet(false, true)) {
            lock.release();
            return hasNow ? Future.succeededFuture() : retryLater(lockWaitMs, attempt);
          }
          LOG.info("No model yet and trainOnStart=true: training one{}", attempt > 0 ? " (the previous trainer is gone)" : "");
          runLocked(lock, settings.training(), "trainOnStart");
          return Future.succeededFuture();
        }, e -> {
          lock.release();
          return retryLater(lockWaitMs, attempt);
        });
      });
    }).onFailure(e -> {
      LOG.warn("Start-up training check failed ({}); retrying", e.getMessage());
      retryLater(lockWaitMs, attempt);
    });
  }

  private Future<Void> retryLater(long delayMs, int attempt) {
    if (!stopped) {
      vertx.setTimer(Math.max(1, delayMs), id -> trainIfNoModel(
          settings.cluster().trainerLockWaitMs(), attempt + 1));
    }
    return Future.succeededFuture();
  }

  private void onStatus(Message<JsonObject> message) {
    JsonObject status = progress.toJson();
    if (lastResult != null) {
      status.put("lastModel", lastResult);
    }
    message.reply(status);
  }

  /** The Trainer polls the flag before every batch, so a run stops within one batch. */
  private void onCancel(Message<JsonObject> message) {
    boolean wasRunning = running.get();
    if (wasRunning) {
      cancelled.set(true);
      LOG.info("Training cancel requested");
    }
    message.reply(new JsonObject().put("cancelled", wasRunning));
  }

  private void onStart(Message<JsonObject> message) {
    JsonObject overrides = message.body() == null ? new JsonObject() : message.body();
    JsonObject options = settings.training().mergeIn(overrides);
    try {
      TrainingRequest.validate(overrides, settings.training());
    } catch (IllegalArgumentException e) {
      message.fail(400, e.getMessage());
      return;
    }
    startRun(options, "POST /train " + overrides.encode()).onComplete(started -> {
      if (started.succeeded()) {
        message.reply(new JsonObject().put("state", "started").put("options", options));
      } else {
        message.fail(ALREADY_TRAINING, started.cause().getMessage());
      }
    });
  }

  /**
   * Takes the cluster-wide lock and starts a run on the training pool. The returned future
   * completes when the run has started (not finished); the lock is released when it ends.
   */
  private Future<Void> startRun(JsonObject optionsJson, String command) {
    if (!running.compareAndSet(false, true)) {
      return Future.failedFuture("a training run is already in progress on this node");
    }
    return vertx.sharedData().getLockWithTimeout(LOCK, 100)
        .recover(e -> {
          running.set(false);
          return Future.failedFuture("a training run is already in progress in the cluster");
        })
        .onSuccess(lock -> runLocked(lock, optionsJson, command))
        .mapEmpty();
  }

  private void runLocked(Lock lock, JsonObject optionsJson, String command) {
    TrainingOptions options = TrainingOptions.fromJson(optionsJson, command);
    cancelled.set(false);
    progress = TrainingProgress.phase(TrainingProgress.LOADING_DATA, options.epochs(), 0, "starting");
    AccuracyGate gate = AccuracyGate.from(settings);
    Future<JsonObject> baselineRead = servingBaseline();
    Future<ModelVersion> floorRead = catalog.versionFloor();
    Future.all(baselineRead, floorRead).compose(read -> trainingPool.executeBlocking(() -> {
      JsonObject baseline = baselineRead.result();
      ModelVersion floor = floorRead.result();
      var dataset = Datasets.open(settings.json(), null, line -> LOG.info(line));
      // Read under the cluster's training lock: no other node announces a trained model meanwhile.
      Trainer.Result result = new Trainer(dataset, repository)
          .versions(() -> ModelVersion.nextAfter(clock.instant(), floor))
          .train(options, this::report, cancelled::get);
      JsonObject meta = result.model().metadata();
      if (gate.enabled()) {
        progress = TrainingProgress.phase(TrainingProgress.EVALUATING, options.epochs(), progress.elapsedSeconds(),
            "accuracy gate: evaluating on the full test set");
        meta.put("fullTestAccuracy", AccuracyGate.fullTestAccuracy(result.model(), dataset.testImages(0)));
      }
      Optional<String> refusal = gate.refusal(meta.getDouble("fullTestAccuracy", 0.0), baseline);
      if (refusal.isPresent()) {
        catalog.repository().markRejected(ModelVersion.of(meta), refusal.get());
      }
      return new Gated(meta, refusal.orElse(null));
    })).compose(gated -> {
      JsonObject meta = gated.metadata();
      lastResult = summary(meta);
      if (gated.refusal() != null) {
        lastResult.put("rejected", gated.refusal());
        LOG.warn("Model {} rejected by the accuracy gate, not announced: {}", meta.getString("version"), gated.refusal());
        progress = TrainingProgress.phase(TrainingProgress.REJECTED, options.epochs(), progress.elapsedSeconds(),
            "model " + meta.getString("version") + " rejected: " + gated.refusal());
        return Future.<Void>succeededFuture();
      }
      progress = new TrainingProgress(TrainingProgress.DONE, options.passes(), options.epochs(), 0, 0,
          meta.getLong("imagesTrainedOn"), 0, 0, meta.getDouble("finalLoss", Double.NaN),
          meta.getDouble("trainingSeconds"), "model " + meta.getString("version") + " saved, test accuracy "
          + meta.getDouble("accuracy"));
      LOG.info("Training finished: {}", progress.message());
      return catalog.announce(meta);
    }).onComplete(outcome -> {
      if (outcome.failed()) {
        boolean wasCancelled = outcome.cause() instanceof java.util.concurrent.CancellationException;
        LOG.error("Training {}; the serving model is unchanged", wasCancelled ? "cancelled" : "failed", outcome.cause());
        // The status is readable by anyone: no exception text or server path in it, only in the log.
        progress = TrainingProgress.phase(TrainingProgress.FAILED, options.epochs(), progress.elapsedSeconds(),
            wasCancelled ? "training cancelled" : "training failed; details are in the node's log");
      }
      running.set(false);
      lock.release();
      if (!stopped) { // the pool's one thread is the one that trained (its workspaces); a stopping node exits anyway
        trainingPool.executeBlocking(NativeMemory::releaseAfterTraining);
      }
    });
  }

  private record Gated(JsonObject metadata, String refusal) {
  }

  /** The model the gate compares with: the cluster's current one, else this node's newest accepted one. */
  private Future<JsonObject> servingBaseline() {
    Future<JsonObject> cluster = vertx.isClustered() ? catalog.current() : Future.succeededFuture();
    return cluster.compose(current -> current != null ? Future.succeededFuture(current)
        : vertx.executeBlocking(() -> catalog.repository().newest().orElse(null)));
  }

  /** Called on the training thread: GET /train/status and the training gauges read the latest snapshot. */
  private void report(TrainingProgress snapshot) {
    progress = snapshot;
  }

  private static JsonObject summary(JsonObject meta) {
    return new JsonObject().put("version", meta.getString("version")).put("accuracy", meta.getDouble("accuracy"))
        .put("epochs", meta.getValue("epochs")).put("trainingSeconds", meta.getDouble("trainingSeconds"));
  }

  private void registerMeters(MeterRegistry registry) {
    Gauge.builder("cifar_training_running", this, v -> v.progress.running() ? 1 : 0)
        .description("1 while a training run is in progress").register(registry);
    Gauge.builder("cifar_training_progress_ratio", this, v -> v.progress.fraction())
        .description("fraction of the current run's batches done").register(registry);
    Gauge.builder("cifar_training_images_per_second", this, v -> v.progress.imagesPerSecond())
        .description("training throughput of the current run").register(registry);
    Gauge.builder("cifar_training_loss", this, v -> v.progress.loss())
        .description("latest minibatch loss").register(registry);
  }
}
