package cifarserve.bench;

import cifarserve.Main;
import cifarserve.data.CifarBinaryReader;
import cifarserve.data.CifarClasses;
import cifarserve.data.CifarDataset;
import cifarserve.data.CifarImages;
import cifarserve.model.CifarCnn;
import cifarserve.model.Normalization;
import cifarserve.training.FastBackprop;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Child-JVM probe: steady-state training throughput of the service's network ({@link CifarCnn}, the
 * same configuration {@code train} uses) on real CIFAR-10 images. Minibatches are built beforehand
 * from the first training images (standardised as in training) so only {@code network.fit} is timed;
 * the service's trainer builds the next batch on another thread while the current one trains, so this
 * is what it sees too, and it trains through the trainer's {@link FastBackprop} path. The first
 * {@code warmup} iterations (JIT, oneDNN kernel generation, workspace sizing) are excluded; then
 * {@code windows} windows of {@code iterations} iterations each are timed (wall and process CPU time)
 * and the median window is the figure.
 */
public final class TrainingProbe {
  private TrainingProbe() {
  }

  public static void main(String[] argv) throws Exception {
    Main.enableEngineHelpers();
    Map<String, String> args = ProbeSupport.args(argv);
    Path cifarDir = Path.of(args.get("cifarDir"));
    int batch = ProbeSupport.intArg(args, "batch", 64);
    int warmup = ProbeSupport.intArg(args, "warmup", 3);
    int windows = ProbeSupport.intArg(args, "windows", 5);
    int iterations = ProbeSupport.intArg(args, "iterations", 8);
    int distinctBatches = ProbeSupport.intArg(args, "distinctBatches", 32);

    // Hold what the trainer holds (all 50,000 training and 10,000 test images), so the peak RSS is
    // that of a real training JVM; minibatches come from the first images.
    List<CifarImages> parts = new ArrayList<>();
    for (String file : CifarDataset.TRAIN_FILES) {
      parts.add(CifarBinaryReader.read(cifarDir.resolve(file)));
    }
    CifarImages all = CifarImages.concat(parts);
    parts.clear();
    CifarImages test = CifarBinaryReader.read(cifarDir.resolve(CifarDataset.TEST_FILE));
    CifarImages images = all.limit(distinctBatches * batch);
    List<DataSet> batches = new ArrayList<>();
    for (int from = 0; from + batch <= images.size(); from += batch) {
      batches.add(batch(images, from, batch));
    }

    MultiLayerNetwork network = CifarCnn.newNetwork(42);
    // The trainer's minibatch path (conv forward cache, vectorised ReLU backward): what users' training runs.
    FastBackprop fast = FastBackprop.during(network);
    int next = 0;
    long warmStarted = System.nanoTime();
    for (int i = 0; i < warmup; i++) {
      network.fit(batches.get(next++ % batches.size()));
    }
    double warmupMs = ProbeSupport.ms(System.nanoTime() - warmStarted);
    double firstLoss = network.score();

    double[] wallRates = new double[windows];
    double[] cpuRates = new double[windows];
    double[] iterationMs = new double[windows * iterations];
    JsonArray loads = new JsonArray();
    for (int w = 0; w < windows; w++) {
      loads.add(Machine.loadAverage().getDouble(0));
      long cpu0 = ProbeSupport.cpuNanos();
      long t0 = System.nanoTime();
      for (int i = 0; i < iterations; i++) {
        long s = System.nanoTime();
        network.fit(batches.get(next++ % batches.size()));
        iterationMs[w * iterations + i] = ProbeSupport.ms(System.nanoTime() - s);
      }
      long wall = System.nanoTime() - t0;
      long cpu = ProbeSupport.cpuNanos() - cpu0;
      wallRates[w] = iterations * (double) batch / (wall / 1e9);
      cpuRates[w] = iterations * (double) batch / (cpu / 1e9);
    }
    fast.close();
    JsonArray helpers = new JsonArray();
    for (Layer layer : network.getLayers()) {
      Object helper = layer.getHelper();
      helpers.add(layer.getClass().getSimpleName() + ":" + (helper == null ? "none" : helper.getClass().getSimpleName()));
    }
    ProbeSupport.emit(new JsonObject()
        .put("batchSize", batch)
        .put("warmupIterations", warmup)
        .put("warmupMs", Samples.round(warmupMs, 1))
        .put("windows", windows)
        .put("iterationsPerWindow", iterations)
        .put("imagesPerSecond", Samples.round(Samples.median(wallRates), 1))
        .put("imagesPerSecondWindows", Samples.json(wallRates, 1))
        .put("imagesPerCpuSecond", Samples.round(Samples.median(cpuRates), 1))
        .put("imagesPerCpuSecondWindows", Samples.json(cpuRates, 1))
        .put("iterationMs", new Samples(iterationMs).latencyJson())
        .put("loadAverage1mPerWindow", loads)
        .put("lossAfterWarmup", Samples.round(firstLoss, 4))
        .put("lossAtEnd", Samples.round(network.score(), 4))
        .put("layerHelpers", helpers)
        .put("backend", Nd4j.getBackend().getClass().getSimpleName())
        .put("imagesHeld", all.size() + test.size())
        // ND4J's off-heap accounting and BLAS threads: training's figures (the inference probes load no ND4J)
        .put("memory", ProbeSupport.memory()
            .put("javacppTotalBytesMb", org.bytedeco.javacpp.Pointer.totalBytes() >> 20)
            .put("javacppMaxBytesMb", org.bytedeco.javacpp.Pointer.maxBytes() >> 20)
            .put("javacppMaxPhysicalBytesMb", org.bytedeco.javacpp.Pointer.maxPhysicalBytes() >> 20))
        .put("jvm", ProbeSupport.jvm().put("blasThreads", Nd4j.factory().blas().getMaxThreads())));
  }

  private static DataSet batch(CifarImages images, int from, int count) {
    float[] labels = new float[count * CifarClasses.COUNT];
    for (int i = 0; i < count; i++) {
      labels[i * CifarClasses.COUNT + images.label(from + i)] = 1f;
    }
    float[] features = Normalization.fromBytes(images.pixels(), from, count);
    return new DataSet(
        Nd4j.create(features, new long[] {count, CifarImages.CHANNELS, CifarImages.SIDE, CifarImages.SIDE}, 'c'),
        Nd4j.create(labels, new long[] {count, CifarClasses.COUNT}, 'c'));
  }
}
