package cifarserve.training;

import cifarserve.BuildInfo;
import cifarserve.data.CifarClasses;
import cifarserve.data.CifarDataset;
import cifarserve.data.CifarImages;
import cifarserve.model.CifarCnn;
import cifarserve.model.LoadedModel;
import cifarserve.model.ModelRepository;
import cifarserve.model.ModelVersion;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * Trains the CNN on CIFAR-10, evaluates it on the test set and saves a versioned artifact.
 * Blocking: call it from a worker thread (the training verticle) or the CLI, never an event loop.
 */
public final class Trainer {
  private static final long PROGRESS_INTERVAL_NANOS = 1_000_000_000L;

  /** The trained model and where it was written. */
  public record Result(LoadedModel model, java.nio.file.Path metadataFile) {
  }

  private final CifarDataset dataset;
  private final ModelRepository repository;
  private final Path checkpointFile;
  private final boolean resume;
  /** Gives the finished model its version (default: this node's clock). */
  private Supplier<ModelVersion> versions = () -> ModelVersion.next(Instant.now());

  public Trainer(CifarDataset dataset, ModelRepository repository) {
    this(dataset, repository, null, false);
  }

  /** Versions from {@code issuer} instead of the clock alone (a node in a cluster orders after its current). */
  public Trainer versions(Supplier<ModelVersion> issuer) {
    this.versions = issuer;
    return this;
  }

  /**
   * A trainer that writes a {@link Checkpoint} to {@code checkpointFile} after every epoch and, when
   * {@code resume}, continues the run saved there (with that run's options) instead of starting anew.
   */
  public Trainer(CifarDataset dataset, ModelRepository repository, Path checkpointFile, boolean resume) {
    this.dataset = dataset;
    this.repository = repository;
    this.checkpointFile = checkpointFile;
    this.resume = resume;
  }

  public Result train(TrainingOptions options, Consumer<TrainingProgress> progress, BooleanSupplier cancelled)
      throws IOException {
    Checkpoint resumed = resume ? Checkpoint.read(checkpointFile) : null;
    if (resumed != null) {
      options = TrainingOptions.fromJson(resumed.options(), resumed.command());
      if (resumed.epochsDone() >= options.passes()) {
        throw new IOException(checkpointFile + ": that run finished all " + TrainingOptions.epochsJson(options.epochs())
            + " epochs already");
      }
    }
    TrainingOptions run = options;
    long started = System.nanoTime() - (resumed == null ? 0 : (long) (resumed.elapsedSeconds() * 1e9));
    progress.accept(TrainingProgress.phase(TrainingProgress.LOADING_DATA, options.epochs(), 0,
        "reading CIFAR-10"));
    CifarImages train = dataset.trainImages(options.trainLimit());
    CifarImages test = dataset.testImages(options.testLimit());

    ISchedule schedule = learningRate(options, train.size());
    MultiLayerNetwork network = CifarCnn.newNetwork(options.seed(), schedule);
    JsonArray curve = new JsonArray();
    int firstEpoch = 1;
    if (resumed != null) {
      resumed.restoreInto(checkpointFile, network);
      curve.addAll(resumed.curve());
      firstEpoch = resumed.epochsDone() + 1;
      progress.accept(TrainingProgress.phase(TrainingProgress.LOADING_DATA, options.epochs(), seconds(started),
          "resuming after epoch " + resumed.epochsDone() + " from " + checkpointFile));
    }
    progress.accept(TrainingProgress.phase(TrainingProgress.LOADING_DATA, options.epochs(), seconds(started),
        "network ready: " + CifarCnn.engineReport(network)));
    int batchesPerEpoch = batchesPerEpoch(train.size(), options.batchSize());
    Result[] last = new Result[1];
    fit(network, train, options, firstEpoch, progress, cancelled, started, (epochsDone, batchesDone, meanLoss) -> {
      boolean finalPass = epochsDone == run.passes();
      // The last point of a run ending part-way through a pass is that fraction (2.75), not the pass's number.
      Number epoch = finalPass ? TrainingOptions.epochsJson(run.epochs()) : epochsDone;
      JsonObject point = new JsonObject().put("epoch", epoch).put("meanLoss", round(meanLoss, 4))
          .put("learningRate", schedule == null ? CifarCnn.LEARNING_RATE
              : round(schedule.valueAt((int) batchesDone - 1, epochsDone), 6))
          .put("seconds", round(seconds(started), 1));
      curve.add(point);
      if (finalPass || run.saveEachEpoch()) {
        long images = (batchesDone / batchesPerEpoch) * train.size() + (batchesDone % batchesPerEpoch) * run.batchSize();
        last[0] = evaluateAndSave(network, train, test, run, epoch, images, meanLoss, started, progress, curve);
        point.put("testAccuracy", last[0].model().metadata().getDouble("accuracy"));
      }
      if (checkpointFile != null) {
        Checkpoint.write(checkpointFile, network, new Checkpoint(epochsDone, network.getIterationCount(),
            seconds(started), run.toJson(), run.command(), curve));
      }
    });
    return last[0];
  }

  /** Called after each epoch with its mean training loss. */
  private interface EpochEnd {
    void accept(int epochsDone, long batchesDone, double meanLoss) throws IOException;
  }

  private Result evaluateAndSave(MultiLayerNetwork network, CifarImages train, CifarImages test,
                                 TrainingOptions options, Number epochsDone, long imagesTrainedOn, double loss, long started,
                                 Consumer<TrainingProgress> progress, JsonArray curve) throws IOException {
    long trainingNanos = System.nanoTime() - started;
    progress.accept(TrainingProgress.phase(TrainingProgress.EVALUATING, options.epochs(), seconds(started),
        "exporting to ONNX, verifying it against DL4J and evaluating it on " + test.size()
            + " test images after epoch " + epochsDone));
    String version = versions.get().toString();
    OnnxArtifacts.Evaluated exported = OnnxArtifacts.exportEvaluated(network, version, dataset, test);
    JsonObject metadata = metadata(version, options, epochsDone, imagesTrainedOn, train.size(), test.size(),
        exported.evaluation(), loss, trainingNanos).put("curve", curve.copy());
    exported.recordIn(metadata);
    progress.accept(TrainingProgress.phase(TrainingProgress.SAVING, options.epochs(), seconds(started),
        "saving " + version + " (test accuracy " + metadata.getDouble("accuracy") + ")"));
    var metadataFile = repository.save(network, exported.onnx(), metadata);
    return new Result(new LoadedModel(metadata, network), metadataFile);
  }

  private static double round(double value, int digits) {
    double scale = Math.pow(10, digits);
    return Double.isFinite(value) ? Math.round(value * scale) / scale : Double.NaN;
  }

  private void fit(MultiLayerNetwork network, CifarImages train, TrainingOptions options, int firstEpoch,
                   Consumer<TrainingProgress> progress, BooleanSupplier cancelled, long started, EpochEnd epochEnd)
      throws IOException {
    int batchSize = options.batchSize();
    int batchesPerEpoch = batchesPerEpoch(train.size(), batchSize);
    long totalBatches = options.totalBatches(batchesPerEpoch);
    Random random = new Random(options.seed());
    double loss = Double.NaN;
    // Batches are assembled on this thread while the network trains on the previous one, so the
    // CPU never waits for data (assembly is ~1 ms against ~100s of ms of training per batch).
    ExecutorService prefetcher = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "training-prefetch");
      t.setDaemon(true);
      return t;
    });
    try {
      long fitStarted = 0;
      long imagesSinceFitStarted = 0;
      long lastReport = 0;
      long done = (long) (firstEpoch - 1) * batchesPerEpoch;
      for (int epoch = 1; epoch <= options.passes(); epoch++) {
        int[] order = Minibatches.shuffledIndices(train.size(), random);
        long epochSeed = random.nextLong();
        if (epoch < firstEpoch) {
          continue; // a resumed run replays the random stream of the epochs done: the same batches follow
        }
        CompletableFuture<DataSet> next = CompletableFuture.supplyAsync(
            () -> Minibatches.batch(train, order, 0, batchSize, options.horizontalFlip(), options.cropPadding(), new Random(epochSeed)),
            prefetcher);
        Random flips = new Random(epochSeed + 1);
        // Every pass is whole but the last of a fractional run, which stops part-way through its order.
        int batches = (int) Math.min(batchesPerEpoch, totalBatches - (long) (epoch - 1) * batchesPerEpoch);
        double epochLoss = 0;
        // The fast path is on for the minibatches only: what evaluates, exports or saves sees the stock network.
        try (var fast = FastBackprop.during(network)) {
          for (int b = 0; b < batches; b++) {
            if (cancelled.getAsBoolean()) {
              throw new CancellationException("training cancelled");
            }
            DataSet current = next.join();
            if (b + 1 < batches) {
              int from = (b + 1) * batchSize;
              long flipSeed = flips.nextLong();
              next = CompletableFuture.supplyAsync(
                  () -> Minibatches.batch(train, order, from, batchSize, options.horizontalFlip(), options.cropPadding(),
                      new Random(flipSeed)), prefetcher);
            }
            network.fit(current);
            loss = network.score();
            epochLoss += loss;
            done++;
            long now = System.nanoTime();
            // The first batch pays JIT and native warm-up: leave it out of the throughput figure.
            if (fitStarted == 0) {
              fitStarted = now;
            } else {
              imagesSinceFitStarted += current.numExamples();
            }
            if (now - lastReport >= PROGRESS_INTERVAL_NANOS || b == batches - 1) {
              lastReport = now;
              double elapsed = (now - fitStarted) / 1e9;
              double rate = elapsed > 0 ? imagesSinceFitStarted / elapsed : 0;
              double batchRate = elapsed > 0 ? (done - 1) / elapsed : 0;
              double eta = batchRate > 0 ? (totalBatches - done) / batchRate : 0;
              progress.accept(new TrainingProgress(TrainingProgress.TRAINING, epoch, options.epochs(), b + 1, batchesPerEpoch,
                  done * batchSize, rate, eta, loss, seconds(started), "training"));
            }
          }
        }
        epochEnd.accept(epoch, done, epochLoss / batches);
      }
    } finally {
      prefetcher.shutdownNow();
    }
  }

  /** Minibatches in one pass over the images (the last one may be short). */
  static int batchesPerEpoch(int images, int batchSize) {
    return (images + batchSize - 1) / batchSize;
  }

  /** The options' learning rate per minibatch; {@code null} is the study's constant rate. */
  static ISchedule learningRate(TrainingOptions options, int trainImages) {
    if (TrainingOptions.CONSTANT.equals(options.schedule()) && options.learningRate() == CifarCnn.LEARNING_RATE) {
      return null;
    }
    int batchesPerEpoch = batchesPerEpoch(trainImages, options.batchSize());
    int total = options.totalBatches(batchesPerEpoch);
    if (TrainingOptions.CONSTANT.equals(options.schedule())) {
      return new WarmupCosineSchedule(options.learningRate(), options.learningRate(), 0, total);
    }
    int warmup = (int) Math.round(options.warmupEpochs() * batchesPerEpoch);
    return new WarmupCosineSchedule(options.learningRate(), 0, warmup, total, options.baseLearningRate());
  }

  private JsonObject metadata(String version, TrainingOptions options, Number epochs, long imagesTrainedOn,
                              int trainImages, int testImages,
                              Evaluation evaluation, double finalLoss, long trainingNanos) {
    Instant now = Instant.now();
    double trainingSeconds = trainingNanos / 1e9;
    return new JsonObject()
        .put("version", version)
        .put("model", "cifar10-cnn")
        .put("trainedAt", now.toString())
        .put("accuracy", Math.round(evaluation.accuracy() * 10000) / 10000.0)
        // of the .onnx file as ONNX Runtime serves it, checked against DL4J (onnxVerification)
        .put("evaluatedWith", "ONNX Runtime")
        .put("testImages", testImages)
        .put("correct", evaluation.correct())
        .put("perClassAccuracy", evaluation.perClassJson())
        .put("epochs", epochs)
        .put("trainImages", trainImages)
        .put("imagesTrainedOn", imagesTrainedOn)
        .put("finalLoss", Double.isFinite(finalLoss) ? finalLoss : null)
        .put("trainingSeconds", Math.round(trainingSeconds * 10) / 10.0)
        .put("options", options.toJson())
        .put("command", options.command())
        .put("architecture", CifarCnn.describe())
        .put("architectureId", CifarCnn.ARCHITECTURE_ID)
        .put("parameters", CifarCnn.PARAMETER_COUNT)
        .put("input", new JsonObject().put("layout", "NCHW").put("shape", new JsonArray().add(-1).add(3).add(32).add(32))
            .put("preprocessing", "pixels/255, then per-channel (x-mean)/std with CIFAR-10 mean/std"))
        .put("classes", new JsonArray(CifarClasses.NAMES))
        .put("dataChecksums", new JsonObject(new java.util.LinkedHashMap<>(dataset.checksums())))
        .put("libraries", BuildInfo.toJson()
            .put("nd4jBackend", Nd4j.getBackend().getClass().getSimpleName()));
  }

  private static double seconds(long startedNanos) {
    return (System.nanoTime() - startedNanos) / 1e9;
  }
}
