package cifarserve.bench;

import cifarserve.cli.Cli;
import cifarserve.config.ServiceConfig;
import cifarserve.data.CifarDataset;
import cifarserve.data.Datasets;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import cifarserve.BuildInfo;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "cifar-serve-bench", mixinStandardHelpOptions = true, versionProvider = BenchCommand.Version.class,
    description = {"Measure the engine: training images/s, in-process inference latency and batched throughput,"
        + " cold-start phases and memory, each part in a fresh JVM. Prints a table; --json writes every figure.",
        "A benchmark, not a test: run it on a quiet machine (the load average is recorded with every figure)."})
public final class BenchCommand implements Callable<Integer> {
  public static void main(String[] args) {
    System.exit(new CommandLine(new BenchCommand()).execute(args));
  }

  /** The versions a figure was measured with: the bench's and the engines' it drives. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"cifar-serve-bench " + BuildInfo.get("app") + " (Deeplearning4j "
          + BuildInfo.get("dl4j") + ", ONNX Runtime " + BuildInfo.get("onnxruntime")
          + ", Java " + System.getProperty("java.version") + ")"};
    }
  }

  @Option(names = "--quick", description = "fewer windows and runs (under 2 minutes)")
  boolean quick;

  @Option(names = "--json", paramLabel = "FILE", description = "write the full result as JSON")
  Path json;

  @Option(names = "--model-dir", description = "model artifacts to measure (default: config modelDir; an untrained "
      + "network of the same architecture is used when it holds none)")
  Path modelDir;

  @Option(names = "--cifar-dir", description = "folder with the CIFAR-10 .bin files (default: CIFAR_DIR or fetched)")
  Path cifarDir;

  @Option(names = "--only", split = ",", paramLabel = "PART",
      description = "parts to run: training, inference, coldstart (engine phases), servicestart (`serve` to the "
          + "first HTTP answer); default: all")
  List<String> only;

  @Option(names = "--train-jvm-arg", paramLabel = "ARG", description = "JVM options of the training JVM, replacing "
      + "the defaults (TRAIN_JVM_LIMITS of conf/jvm.env); repeatable")
  List<String> trainJvmArgs;

  @Option(names = "--serve-jvm-arg", paramLabel = "ARG", description = "JVM options of the inference and cold-start "
      + "JVMs, replacing the defaults (SERVE_JVM_LIMITS of conf/jvm.env); repeatable")
  List<String> serveJvmArgs;

  @Option(names = "--cold-java", paramLabel = "JAVA", description = "java launcher for the cold-start JVMs "
      + "(default: this one), e.g. a JDK 25's bin/java for its AOT cache")
  String coldJava;

  @Option(names = "--cold-jvm-arg", paramLabel = "ARG", description = "extra option for the cold-start JVMs, e.g. "
      + "-XX:SharedArchiveFile=bench/cds/probe.jsa; repeatable")
  List<String> coldJvmArgs;

  @Option(names = "--cold-runs", description = "cold starts to measure (default 5, 3 with --quick)")
  int coldRuns;

  @Option(names = "--training-runs", description = "training runs, each DL4J then the PyTorch reference, in turn; "
      + "the report gives the median of each (default ${DEFAULT-VALUE})")
  int trainingRuns = 3;

  @Option(names = "--child-env", paramLabel = "NAME=VALUE", description = "environment of every child JVM on top "
      + "of the deployed one (ENGINE_ENV of conf/jvm.env, plus TRAIN_ENV for the training JVMs), e.g. "
      + "OMP_NUM_THREADS=2; repeatable")
  Map<String, String> childEnv;

  @Option(names = "--bare-env", description = "child JVMs inherit only this shell's environment, without the "
      + "deployed engine settings (to measure what they are worth)")
  boolean bareEnv;

  @Option(names = "--log-dir", description = "where child JVM logs go (default: a temporary folder)")
  Path logDir;

  @Override
  public Integer call() {
    if (trainingRuns < 1) {
      System.err.println("error: --training-runs must be at least 1");
      return 2;
    }
    try {
      JsonObject config = ServiceConfig.load(null);
      CifarDataset dataset = Datasets.open(config, cifarDir, System.out::println);
      Set<String> sections = new LinkedHashSet<>(only == null ? List.of("training", "inference", "coldstart", "servicestart") : only);
      for (String s : sections) {
        if (!List.of("training", "inference", "coldstart", "servicestart").contains(s)) {
          System.err.println("error: unknown part '" + s + "' (training, inference, coldstart, servicestart)");
          return 2;
        }
      }
      Path models = modelDir != null ? modelDir : Path.of(config.getString("modelDir"));
      Benchmark.Options options = new Benchmark.Options(quick, models, dataset.directory(), sections,
          trainJvmArgs != null ? trainJvmArgs : Benchmark.TRAIN_JVM_ARGS,
          serveJvmArgs != null ? serveJvmArgs : Benchmark.SERVE_JVM_ARGS,
          coldJava != null ? coldJava : Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          coldJvmArgs != null ? coldJvmArgs : List.of(), coldRuns, trainingRuns,
          childEnvironment(), trainingEnvironment(),
          logDir != null ? logDir : Files.createTempDirectory("cifar-bench-logs-"), commandLine());
      JsonObject report = new Benchmark(options, System.out).run();
      System.out.print(ReportTable.render(report));
      if (json != null) {
        Path parent = json.toAbsolutePath().getParent();
        if (parent != null) {
          Files.createDirectories(parent);
        }
        Files.writeString(json, portablePaths(report.encodePrettily()) + "\n", StandardCharsets.UTF_8);
        System.out.println("JSON: " + json);
      }
      return 0;
    } catch (Exception e) {
      System.err.println("error: benchmark failed: " + Cli.describe(e));
      return 1;
    }
  }

  /**
   * The report as it can be committed: the checkout and the folder of JDKs written as {@code $REPO} and
   * {@code $JVM_DIR}, not as this machine lays them out.
   */
  static String portablePaths(String text) {
    Path javaHome = Path.of(System.getProperty("java.home")).toAbsolutePath();
    String jvmDir = javaHome.getParent() == null ? javaHome.toString() : javaHome.getParent().toString();
    return text.replace(Path.of("").toAbsolutePath().toString(), "$REPO").replace(jvmDir + "/", "$JVM_DIR/");
  }

  Map<String, String> childEnvironment() {
    return environment(Map.of());
  }

  /** The training JVMs' (and the reference's): TRAIN_ENV on top, as the deployments that train set it. */
  Map<String, String> trainingEnvironment() {
    return environment(Benchmark.TRAIN_ENV);
  }

  private Map<String, String> environment(Map<String, String> deployedExtra) {
    Map<String, String> env = new TreeMap<>();
    if (!bareEnv) {
      env.putAll(Benchmark.DEPLOYED_ENV);
      env.putAll(deployedExtra);
    }
    if (childEnv != null) {
      env.putAll(childEnv);
    }
    return env;
  }

  private String commandLine() {
    List<String> parts = new ArrayList<>(List.of("java", "-jar", "cifar-serve-bench.jar"));
    if (quick) {
      parts.add("--quick");
    }
    if (only != null) {
      parts.add("--only " + String.join(",", only));
    }
    if (trainingRuns != 3) {
      parts.add("--training-runs " + trainingRuns);
    }
    if (coldJava != null) {
      parts.add("--cold-java " + coldJava);
    }
    if (coldJvmArgs != null) {
      coldJvmArgs.forEach(a -> parts.add("--cold-jvm-arg=" + a));
    }
    if (bareEnv) {
      parts.add("--bare-env");
    }
    if (childEnv != null) {
      childEnv.forEach((k, v) -> parts.add("--child-env " + k + "=" + v));
    }
    if (trainJvmArgs != null) {
      trainJvmArgs.forEach(a -> parts.add("--train-jvm-arg=" + a));
    }
    if (serveJvmArgs != null) {
      serveJvmArgs.forEach(a -> parts.add("--serve-jvm-arg=" + a));
    }
    return String.join(" ", parts);
  }
}
