package cifarserve.bench;

import ai.onnxruntime.OrtEnvironment;
import cifarserve.common.ProcStats;
import cifarserve.data.CifarClasses;
import cifarserve.data.CifarImages;
import cifarserve.inference.Predictions;
import cifarserve.model.ModelRepository;
import cifarserve.model.OnnxModel;
import java.nio.FloatBuffer;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/**
 * Child-JVM probe: the phases of a cold start, in a fresh JVM, along the path the service takes
 * (newest servable artifact from the model folder, its ONNX twin in ONNX Runtime as a lane runs it):
 * process spawned (the parent's clock, passed in) → JVM created (the runtime's start time, ms) →
 * {@code main} entered → engine ready (ONNX Runtime's native library loaded, environment created) →
 * model loaded (SHA-256 checked, session created) → first prediction done. Run it as
 * {@code java -cp cifar-serve-bench.jar cifarserve.bench.ColdStartProbe modelDir=DIR [cifarDir=DIR]}.
 */
public final class ColdStartProbe {
  private ColdStartProbe() {
  }

  public static void main(String[] argv) throws Exception {
    Instant mainEntered = Instant.now();
    long cpuAtMain = cpuMillis();
    Map<String, String> args = ProbeSupport.args(argv);

    OrtEnvironment.getEnvironment();
    Instant backendReady = Instant.now();
    long cpuAtBackend = cpuMillis();

    ModelRepository repository = new ModelRepository(Path.of(args.get("modelDir")));
    OnnxModel model = repository.loadOnnx(repository.newestServable()
        .orElseThrow(() -> new IllegalStateException("no servable model artifact in " + repository.directory())),
        1, Runtime.getRuntime().availableProcessors());
    Instant modelRestored = Instant.now();
    long cpuAtModel = cpuMillis();

    byte[] record = firstTestRecord(args.get("cifarDir"));
    byte[] pixels = new byte[CifarImages.PIXELS_PER_IMAGE];
    System.arraycopy(record, 1, pixels, 0, pixels.length);
    FloatBuffer input = OnnxModel.inputBuffer(1);
    OnnxModel.putUnitPixels(pixels, 0, pixels.length, input);
    float[][] probabilities = model.predict(0, input, 1);
    Instant firstPrediction = Instant.now();
    long cpuAtFirst = cpuMillis();

    long s = System.nanoTime();
    input.clear();
    OnnxModel.putUnitPixels(pixels, 0, pixels.length, input);
    model.predict(0, input, 1);
    double secondPredictionMs = ProbeSupport.ms(System.nanoTime() - s);

    // The JVM's own creation time (ms); the kernel's process start time is no better (whole-second boot time).
    long jvmStartMillis = ManagementFactory.getRuntimeMXBean().getStartTime();
    long spawnedMicros = Long.parseLong(args.getOrDefault("spawnedAtMicros", "-1"));
    int predicted = Predictions.argMax(probabilities[0]);
    JsonObject result = new JsonObject()
        .put("spawnedAtMicros", spawnedMicros)
        .put("jvmStartMicros", jvmStartMillis > 0 ? jvmStartMillis * 1000 : null)
        .put("mainEnteredMicros", micros(mainEntered))
        .put("backendReadyMicros", micros(backendReady))
        .put("modelRestoredMicros", micros(modelRestored))
        .put("firstPredictionMicros", micros(firstPrediction))
        .put("cpuMs", new JsonObject().put("toMain", cpuAtMain).put("backendReady", cpuAtBackend - cpuAtMain)
            .put("modelRestore", cpuAtModel - cpuAtBackend).put("firstPrediction", cpuAtFirst - cpuAtModel)
            .put("total", cpuAtFirst))
        .put("secondPredictionMs", Samples.round(secondPredictionMs, 2))
        .put("model", model.version())
        .put("imageLabel", record[0] < 0 ? null : CifarClasses.name(record[0]))
        .put("predicted", CifarClasses.name(predicted))
        .put("sharedArchive", sharedArchive())
        .put("memory", ProbeSupport.memory())
        .put("jvm", ProbeSupport.jvm());
    ProbeSupport.emit(result);
  }

  /** The first record of test_batch.bin (a cat), or a mid-grey image labelled -1 without data. */
  private static byte[] firstTestRecord(String cifarDir) throws Exception {
    if (cifarDir != null) {
      Path file = Path.of(cifarDir, "test_batch.bin");
      if (Files.isRegularFile(file)) {
        try (InputStream in = Files.newInputStream(file)) {
          return in.readNBytes(CifarImages.RECORD_BYTES);
        }
      }
    }
    byte[] grey = new byte[CifarImages.RECORD_BYTES];
    java.util.Arrays.fill(grey, (byte) 128);
    grey[0] = -1;
    return grey;
  }

  /** Whether class-data sharing / the AOT cache is mapped (read after the timed phases). */
  private static String sharedArchive() {
    try {
      var bean = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
      String file = optionOrEmpty(bean, "SharedArchiveFile");
      String aot = optionOrEmpty(bean, "AOTCache");
      String on = optionOrEmpty(bean, "UseSharedSpaces");
      return "UseSharedSpaces=" + on + (file.isEmpty() ? "" : " SharedArchiveFile=" + file)
          + (aot.isEmpty() ? "" : " AOTCache=" + aot);
    } catch (RuntimeException e) {
      return "unknown";
    }
  }

  private static String optionOrEmpty(com.sun.management.HotSpotDiagnosticMXBean bean, String name) {
    try {
      return bean.getVMOption(name).getValue();
    } catch (IllegalArgumentException e) {
      return "";
    }
  }

  /**
   * CPU time this process has used so far (user + system, all threads), in ms (10 ms ticks): cheap
   * enough to read between phases, and telling on a shared machine.
   */
  static long cpuMillis() {
    double seconds = ProcStats.cpuSeconds("self");
    return seconds < 0 ? -1 : Math.round(seconds * 1000);
  }

  static long micros(Instant instant) {
    return instant.getEpochSecond() * 1_000_000L + instant.getNano() / 1_000;
  }
}
