package cifarserve.bench;

import cifarserve.data.CifarBinaryReader;
import cifarserve.data.CifarImages;
import cifarserve.inference.Predictions;
import cifarserve.model.ModelRepository;
import cifarserve.model.OnnxModel;
import java.nio.FloatBuffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Map;

/**
 * Child-JVM probe: in-process inference with a model artifact's ONNX twin, as a lane of the inference
 * verticle runs it ({@link OnnxModel#predict(int, FloatBuffer, int)}: one session of
 * {@code threads} intra-op threads, default the cores, as the service's default single lane), timing
 * pixel scaling into the lane's reused buffer + forward pass + copy-out per call.
 *
 * <ul>
 *   <li>single-image latency: {@code latencySamples} calls of one real test image each, after
 *       {@code warmup} untimed calls; exact p50/p90/p99 of the samples;</li>
 *   <li>batched throughput at each batch size: {@code windows} timed windows of at least
 *       {@code windowImages} images (or {@code windowMs}) each; the median window is the figure;</li>
 *   <li>accuracy of the model on the images used (a sanity check that the network is the real one);</li>
 *   <li>resident set afterwards: the steady memory of a serving JVM.</li>
 * </ul>
 */
public final class InferenceProbe {
  private InferenceProbe() {
  }

  public static void main(String[] argv) throws Exception {
    Map<String, String> args = ProbeSupport.args(argv);
    Path cifarDir = Path.of(args.get("cifarDir"));
    ModelRepository repository = new ModelRepository(Path.of(args.get("modelDir")));
    int warmup = ProbeSupport.intArg(args, "warmup", 50);
    int latencySamples = ProbeSupport.intArg(args, "latencySamples", 500);
    long latencyBudgetNanos = ProbeSupport.intArg(args, "latencyMs", 30_000) * 1_000_000L;
    int windows = ProbeSupport.intArg(args, "windows", 5);
    int windowImages = ProbeSupport.intArg(args, "windowImages", 512);
    int windowMs = ProbeSupport.intArg(args, "windowMs", 3000);
    String[] batchSizes = args.getOrDefault("batchSizes", "1,8,32,128").split(",");
    int threads = ProbeSupport.intArg(args, "threads", Runtime.getRuntime().availableProcessors());

    CifarImages test = CifarBinaryReader.read(cifarDir.resolve("test_batch.bin")).limit(1024);
    OnnxModel model = repository.loadOnnx(repository.newestServable()
        .orElseThrow(() -> new IllegalStateException("no servable model artifact in " + repository.directory())),
        1, threads);
    int largest = java.util.Arrays.stream(batchSizes).mapToInt(b -> Integer.parseInt(b.trim())).max().orElse(1);
    FloatBuffer input = OnnxModel.inputBuffer(Math.max(1, largest));

    System.err.println("model " + model.version() + " restored; warming up");
    int correct = 0;
    for (int i = 0; i < warmup; i++) {
      predict(model, input, test, i % test.size(), 1);
    }
    System.err.println("single-image latency: up to " + latencySamples + " samples");
    double[] latency = new double[latencySamples];
    long latencyStarted = System.nanoTime();
    int taken = 0;
    for (int i = 0; i < latencySamples; i++) {
      // Bounded in time too: on a busy machine fewer samples, never an endless run (at least 20).
      if (i >= 20 && System.nanoTime() - latencyStarted > latencyBudgetNanos) {
        break;
      }
      int index = i % test.size();
      long s = System.nanoTime();
      float[][] p = predict(model, input, test, index, 1);
      latency[i] = ProbeSupport.ms(System.nanoTime() - s);
      if (Predictions.argMax(p[0]) == test.label(index)) {
        correct++;
      }
      taken++;
    }
    latency = java.util.Arrays.copyOf(latency, taken);
    JsonObject single = new Samples(latency).latencyJson()
        .put("accuracyOnSamples", Samples.round(correct / (double) taken, 4))
        .put("loadAverage1m", Machine.loadAverage().getDouble(0));

    JsonObject batched = new JsonObject();
    for (String size : batchSizes) {
      int n = Integer.parseInt(size.trim());
      System.err.println("batched throughput at batch " + n);
      for (int i = 0; i < 3; i++) {
        predict(model, input, test, 0, n);
      }
      double[] rates = new double[windows];
      double[] callMs = new double[windows];
      double[] cpuRates = new double[windows];
      for (int w = 0; w < windows; w++) {
        long cpu0 = ProbeSupport.cpuNanos();
        long t0 = System.nanoTime();
        int done = 0;
        int calls = 0;
        int from = 0;
        while (done < windowImages && System.nanoTime() - t0 < windowMs * 1_000_000L || calls == 0) {
          if (from + n > test.size()) {
            from = 0;
          }
          predict(model, input, test, from, n);
          from += n;
          done += n;
          calls++;
        }
        long wall = System.nanoTime() - t0;
        rates[w] = done / (wall / 1e9);
        cpuRates[w] = done / ((ProbeSupport.cpuNanos() - cpu0) / 1e9);
        callMs[w] = ProbeSupport.ms(wall) / calls;
      }
      batched.put(Integer.toString(n), new JsonObject()
          .put("imagesPerSecond", Samples.round(Samples.median(rates), 1))
          .put("imagesPerSecondWindows", Samples.json(rates, 1))
          .put("imagesPerCpuSecond", Samples.round(Samples.median(cpuRates), 1))
          .put("msPerCall", Samples.round(Samples.median(callMs), 2))
          .put("loadAverage1m", Machine.loadAverage().getDouble(0)));
    }
    System.gc();
    ProbeSupport.emit(new JsonObject()
        .put("model", model.version())
        .put("engine", "onnxruntime, 1 session, " + threads + " intra-op thread(s)")
        .put("modelAccuracy", model.metadata().getValue("accuracy"))
        .put("singleImage", single)
        .put("batched", batched)
        .put("batchSizes", new JsonArray(java.util.Arrays.asList(batchSizes)))
        .put("memory", ProbeSupport.memory())
        .put("jvm", ProbeSupport.jvm()));
  }

  private static float[][] predict(OnnxModel model, FloatBuffer input, CifarImages images, int from, int count) {
    input.clear();
    OnnxModel.putUnitPixels(images.pixels(), from * CifarImages.PIXELS_PER_IMAGE, count * CifarImages.PIXELS_PER_IMAGE,
        input);
    return model.predict(0, input, count);
  }
}
