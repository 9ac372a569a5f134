package cifarserve.bench;

import cifarserve.model.CifarCnn;
import cifarserve.model.ModelRepository;
import cifarserve.model.ModelVersion;
import cifarserve.model.OnnxExport;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * The benchmark: each part runs in its own fresh JVM ({@link TrainingProbe}, {@link InferenceProbe},
 * {@link ColdStartProbe}) with explicit heap and JavaCPP off-heap limits, so figures are not polluted by
 * one another, memory is per role (training vs serving), and cold starts are real. The parent only
 * launches, watches /proc/PID/status, and assembles the JSON report.
 */
public final class Benchmark {
  /** Heap and off-heap limits of a training JVM (peak RSS is reported against them): conf/jvm.env. */
  public static final List<String> TRAIN_JVM_ARGS = JvmEnv.words("TRAIN_JVM_LIMITS");
  /** Limits of a serving JVM: conf/jvm.env. */
  public static final List<String> SERVE_JVM_ARGS = JvmEnv.words("SERVE_JVM_LIMITS");

  /**
   * The environment every deployment gives the engine (conf/jvm.env's ENGINE_ENV). Child JVMs get it by
   * default so the figures are what users get; {@code --bare-env} measures this shell's environment instead.
   */
  public static final Map<String, String> DEPLOYED_ENV = JvmEnv.engineEnv();

  /**
   * What the deployments that train add for DL4J training (conf/jvm.env's TRAIN_ENV: glibc malloc
   * thresholds): the training JVMs, and the PyTorch reference beside them, get it on top of DEPLOYED_ENV.
   */
  public static final Map<String, String> TRAIN_ENV = JvmEnv.environment("TRAIN_ENV");

  /** The speed goals the report compares with (docs/performance.md). */
  static final double GOAL_TRAIN_IMAGES_PER_S = 1000;
  static final double GOAL_BATCHED_IMAGES_PER_S = 470;
  static final double GOAL_COLD_START_MS = 1000;
  static final long T3_MEDIUM_MB = 4096;

  /** What to run and how. */
  public record Options(boolean quick, Path modelDir, Path cifarDir, Set<String> sections,
                        List<String> trainJvmArgs, List<String> serveJvmArgs,
                        String coldJava, List<String> coldJvmArgs, int coldRuns, int trainingRuns,
                        Map<String, String> childEnv, Map<String, String> trainEnv, Path logDir,
                        String commandLine) {
  }

  private final Options options;
  private final PrintStream out;

  public Benchmark(Options options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  public JsonObject run() throws IOException, InterruptedException {
    boolean quick = options.quick();
    JsonObject environment = Machine.describe()
        .put("childEnv", new JsonObject(new LinkedHashMap<>(options.childEnv())))
        .put("trainEnv", new JsonObject(new LinkedHashMap<>(options.trainEnv())))
        .put("loadAverageStart", Machine.loadAverage());
    JsonObject report = new JsonObject()
        .put("benchmark", "cifar-serve bench")
        .put("command", options.commandLine())
        .put("quick", quick)
        .put("startedAt", Instant.now().toString())
        .put("environment", environment);
    out.printf("cifar-serve bench%s: %s, %d cores, load %s, %s, classifier %s%n", quick ? " --quick" : "",
        environment.getString("cpu"), environment.getInteger("cores"), environment.getJsonArray("loadAverageStart"),
        environment.getString("jdk"), environment.getString("nd4jClassifier"));

    Path modelDir = ensureModel(options.modelDir());
    report.put("modelDir", modelDir.toString());
    ChildJvm trainJvm = new ChildJvm(ChildJvm.currentJava(), options.trainJvmArgs(), options.trainEnv(), options.logDir());
    ChildJvm serveJvm = new ChildJvm(ChildJvm.currentJava(), options.serveJvmArgs(), options.childEnv(), options.logDir());
    String cifar = "cifarDir=" + options.cifarDir();

    if (options.sections().contains("training")) {
      TrainingComparison.Schedule schedule = TrainingComparison.Schedule.of(quick);
      List<String> args = List.of(cifar, "warmup=" + schedule.warmup(), "windows=" + schedule.windows(),
          "iterations=" + schedule.iterations());
      report.put("training", TrainingComparison.measure(options.trainingRuns(),
          () -> probe(trainJvm, TrainingProbe.class, args, options.trainJvmArgs()),
          () -> TorchReference.measure(options.cifarDir(), schedule, options.trainEnv(), options.logDir()), out));
    }
    if (options.sections().contains("inference")) {
      out.println("inference: single-image latency, then batched throughput at batch 1/8/32/128 ...");
      List<String> args = new ArrayList<>(List.of(cifar, "modelDir=" + modelDir));
      args.addAll(quick
          ? List.of("warmup=20", "latencySamples=200", "latencyMs=15000", "windows=3", "windowImages=256", "windowMs=2000")
          : List.of("warmup=50", "latencySamples=1000", "latencyMs=40000", "windows=5", "windowImages=1024", "windowMs=4000"));
      report.put("inference", probe(serveJvm, InferenceProbe.class, args, options.serveJvmArgs()));
    }
    if (options.sections().contains("coldstart")) {
      int runs = options.coldRuns() > 0 ? options.coldRuns() : quick ? 3 : 5;
      out.printf("cold start: %d fresh JVMs (%s) ...%n", runs, options.coldJava());
      report.put("coldStart", coldStart(modelDir, runs));
    }
    if (options.sections().contains("servicestart")) {
      int runs = options.coldRuns() > 0 ? options.coldRuns() : quick ? 3 : 5;
      out.printf("service cold start: %d x `serve` until the first classification answers ...%n", runs);
      List<String> jvmArgs = new ArrayList<>(options.serveJvmArgs());
      jvmArgs.addAll(options.coldJvmArgs());
      JsonArray loadBefore = Machine.loadAverage();
      report.put("serviceColdStart", new ServiceColdStart(options.coldJava(), jvmArgs, options.childEnv(), modelDir,
          options.cifarDir(), options.logDir()).measure(runs)
          .put("loadAverageBefore", loadBefore).put("loadAverageAfter", Machine.loadAverage()));
    }

    environment.put("loadAverageEnd", Machine.loadAverage());
    report.put("finishedAt", Instant.now().toString());
    report.put("memory", memory(report));
    report.put("goals", goals(report));
    return report;
  }

  /** Runs one probe in a fresh child JVM: its result, with the JVM options, parent-sampled RSS and load around it. */
  private JsonObject probe(ChildJvm jvm, Class<?> probe, List<String> args, List<String> jvmArgs)
      throws IOException, InterruptedException {
    JsonArray loadBefore = Machine.loadAverage();
    ChildJvm.Run run = jvm.run(probe, args, Duration.ofMinutes(options.quick() ? 3 : 8));
    return run.result()
        .put("jvmArgs", new JsonArray(jvmArgs))
        .put("peakRssMbSampledByParent", run.peakRssMb())
        .put("loadAverageBefore", loadBefore).put("loadAverageAfter", Machine.loadAverage());
  }

  private JsonObject coldStart(Path modelDir, int runs) throws IOException, InterruptedException {
    List<String> jvmArgs = new ArrayList<>(options.serveJvmArgs());
    jvmArgs.addAll(options.coldJvmArgs());
    ChildJvm jvm = new ChildJvm(options.coldJava(), jvmArgs, options.childEnv(), options.logDir());
    String[] phases = {"spawnToMain", "backendReady", "modelRestore", "firstPrediction", "total"};
    double[][] values = new double[phases.length][runs];
    double[] jvmStartToMain = new double[runs];
    String[] cpuPhases = {"toMain", "backendReady", "modelRestore", "firstPrediction", "total"};
    double[][] cpu = new double[cpuPhases.length][runs];
    JsonArray detail = new JsonArray();
    JsonArray loadBefore = Machine.loadAverage();
    JsonObject last = null;
    Set<String> problems = new java.util.TreeSet<>();
    for (int r = 0; r < runs; r++) {
      long spawned = ColdStartProbe.micros(Instant.now());
      ChildJvm.Run run = jvm.run(ColdStartProbe.class,
          List.of("modelDir=" + modelDir, "cifarDir=" + options.cifarDir(), "spawnedAtMicros=" + spawned),
          Duration.ofMinutes(2));
      JsonObject res = run.result();
      archiveProblems(run.log(), problems);
      long main = res.getLong("mainEnteredMicros");
      long backend = res.getLong("backendReadyMicros");
      long model = res.getLong("modelRestoredMicros");
      long first = res.getLong("firstPredictionMicros");
      double[] v = {(main - spawned) / 1e3, (backend - main) / 1e3, (model - backend) / 1e3,
          (first - model) / 1e3, (first - spawned) / 1e3};
      for (int p = 0; p < phases.length; p++) {
        values[p][r] = v[p];
      }
      for (int p = 0; p < cpuPhases.length; p++) {
        cpu[p][r] = res.getJsonObject("cpuMs").getLong(cpuPhases[p]);
      }
      Long jvmStart = res.getLong("jvmStartMicros");
      jvmStartToMain[r] = jvmStart == null ? Double.NaN : (main - jvmStart) / 1e3;
      JsonObject one = new JsonObject();
      for (int p = 0; p < phases.length; p++) {
        one.put(phases[p] + "Ms", Samples.round(v[p], 1));
      }
      detail.add(one.put("processWallMs", Samples.round(run.wallMs(), 1))
          .put("cpuMs", res.getJsonObject("cpuMs"))
          .put("predicted", res.getString("predicted")).put("imageLabel", res.getString("imageLabel"))
          .put("vmHwmMb", res.getJsonObject("memory").getLong("vmHwmMb"))
          .put("loadAverage1m", Machine.loadAverage().getDouble(0)));
      last = res;
    }
    JsonObject medians = new JsonObject();
    for (int p = 0; p < phases.length; p++) {
      medians.put(phases[p] + "Ms", Samples.round(Samples.median(values[p]), 1));
    }
    medians.put("jvmStartToMainMs", Samples.round(Samples.median(jvmStartToMain), 1));
    JsonObject cpuMedians = new JsonObject();
    for (int p = 0; p < cpuPhases.length; p++) {
      cpuMedians.put(cpuPhases[p] + "Ms", Samples.round(Samples.median(cpu[p]), 0));
    }
    return new JsonObject()
        .put("runs", runs)
        .put("java", options.coldJava())
        .put("jvmArgs", new JsonArray(jvmArgs))
        .put("phasesMedian", medians)
        .put("cpuMsMedian", cpuMedians)
        .put("perRun", detail)
        .put("sharedArchive", last.getString("sharedArchive"))
        .put("archiveProblems", new JsonArray(new ArrayList<>(problems)))
        .put("secondPredictionMs", last.getDouble("secondPredictionMs"))
        .put("jdk", last.getJsonObject("jvm").getString("jdk"))
        .put("note", "spawnToMain is measured from the parent's clock just before ProcessBuilder.start(); "
            + "jvmStartToMain from the JVM's own start time (RuntimeMXBean, ms), i.e. class loading up to main")
        .put("loadAverageBefore", loadBefore).put("loadAverageAfter", Machine.loadAverage());
  }

  /** A CDS archive or AOT cache that does not match is silently ignored by the JVM: surface its complaint. */
  private void archiveProblems(Path log, Set<String> problems) throws IOException {
    for (String line : Files.readAllLines(log)) {
      if (line.contains("[error][cds]") || line.contains("[error][aot]") || line.contains("[warning][cds]")
          || line.contains("Unable to map shared spaces") || line.contains("shared class paths mismatch")) {
        String problem = line.replaceFirst("^\\[stdout\\] ", "").replaceFirst("^\\[[0-9.]+s\\]", "").trim();
        if (problems.add(problem)) {
          out.println("  warning from the cold-start JVM: " + problem);
        }
      }
    }
  }

  private static JsonObject memory(JsonObject report) {
    JsonObject memory = new JsonObject().put("t3MediumMb", T3_MEDIUM_MB);
    JsonObject training = report.getJsonObject("training");
    if (training != null) {
      memory.put("trainingPeakRssMb", training.getJsonObject("memory").getLong("vmHwmMb"))
          .put("trainingJvmArgs", training.getJsonArray("jvmArgs"));
    }
    JsonObject inference = report.getJsonObject("inference");
    if (inference != null) {
      memory.put("servingSteadyRssMb", inference.getJsonObject("memory").getLong("vmRssMb"))
          .put("servingPeakRssMb", inference.getJsonObject("memory").getLong("vmHwmMb"))
          .put("servingJvmArgs", inference.getJsonArray("jvmArgs"));
    }
    return memory;
  }

  private static JsonObject goals(JsonObject report) {
    JsonObject goals = new JsonObject();
    JsonObject training = report.getJsonObject("training");
    if (training != null) {
      goals.put("trainingImagesPerSecond", goal(training.getDouble("imagesPerSecond"), ">=", GOAL_TRAIN_IMAGES_PER_S));
    }
    JsonObject inference = report.getJsonObject("inference");
    if (inference != null) {
      double best = 0;
      for (String size : inference.getJsonObject("batched").fieldNames()) {
        best = Math.max(best, inference.getJsonObject("batched").getJsonObject(size).getDouble("imagesPerSecond"));
      }
      goals.put("batchedInferenceImagesPerSecond", goal(best, ">=", GOAL_BATCHED_IMAGES_PER_S));
      goals.put("servingPeakRssMb", goal(inference.getJsonObject("memory").getLong("vmHwmMb"), "<=", T3_MEDIUM_MB / 2.0)
          .put("note", "half of a t3.medium's 4 GB, leaving room for the OS and a second process"));
    }
    JsonObject cold = report.getJsonObject("coldStart");
    if (cold != null) {
      goals.put("coldStartMs", goal(cold.getJsonObject("phasesMedian").getDouble("totalMs"), "<=", GOAL_COLD_START_MS));
    }
    JsonObject service = report.getJsonObject("serviceColdStart");
    if (service != null) {
      goals.put("serviceColdStartMs", goal(service.getJsonObject("phasesMedian").getDouble("totalMs"), "<=",
          GOAL_COLD_START_MS));
    }
    return goals;
  }

  private static JsonObject goal(double measured, String relation, double target) {
    boolean met = relation.equals(">=") ? measured >= target : measured <= target;
    return new JsonObject().put("measured", measured).put("goal", relation + " " + target).put("met", met);
  }

  /**
   * The model folder to measure with: the given one if it holds an artifact; otherwise a temporary one
   * holding an untrained network of the same architecture (inference and restore cost the same).
   */
  private Path ensureModel(Path modelDir) throws IOException {
    if (modelDir != null && new ModelRepository(modelDir).newestServable().isPresent()) {
      return modelDir;
    }
    Path temp = Files.createTempDirectory("cifar-bench-model-");
    out.printf("no model artifact in %s: measuring with an untrained network of the same architecture in %s%n",
        modelDir, temp);
    MultiLayerNetwork untrained = CifarCnn.newNetwork(42);
    String version = ModelVersion.next(Instant.now()).toString(); // the repository accepts only real version ids
    new ModelRepository(temp).save(untrained, OnnxExport.toOnnx(untrained, version), new JsonObject()
        .put("version", version).put("model", "cifar10-cnn").put("accuracy", 0.1)
        .put("note", "untrained network written by cifar-serve bench"));
    return temp;
  }
}
