package cifarserve.loadtest.experiment;

import cifarserve.common.ProcStats;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code cifar-loadtest experiment}: the study's comparison, function vs always-on node, in one command. */
@Command(name = "experiment", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Runs the OpenFaaS function image and the always-on node image under the same limits (2 CPUs, 4 GiB)",
        "in Docker, measures startup, response, CPU and memory (idle/busy) --repeat times, and writes",
        "DIR/report.md, DIR/report.json and PNG plots. Scale to zero is emulated (see the report)."})
public final class ExperimentCommand implements Callable<Integer> {
  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Where the report goes (created).")
  Path out;
  @Option(names = "--quick", description = "Short runs, 2 repetitions, small training budget (CI).")
  boolean quick;
  @Option(names = "--repeat", paramLabel = "N", description = "Repetitions (default 5; 2 with --quick).")
  Integer repeat;
  @Option(names = "--train-limit", paramLabel = "N", description = "Training images for startup from nothing (default 50000; 2000 with --quick).")
  Integer trainLimit;
  @Option(names = "--test-limit", paramLabel = "N", description = "Test images it is evaluated on (default 10000; 1000 with --quick).")
  Integer testLimit;
  @Option(names = "--epochs", paramLabel = "N", description = "Epochs of that training, a fraction allowed (default: the node's from-nothing budget in conf/; 1 with --quick).")
  Double epochs;
  @Option(names = "--zero-duration", paramLabel = "SECONDS", description = "Emulated gateway's zero-duration (default 300; 10 with --quick).")
  Integer zeroDuration;
  @Mixin
  DockerOptions dockerOptions;
  @Option(names = "--node-archive", paramLabel = "TAR", defaultValue = "ec2/target/cifar-serve-node.tar",
      description = "The always-on node image (ec2/build-node-image.sh). Default: ${DEFAULT-VALUE}")
  Path nodeArchive;
  @Option(names = "--start-timeout", paramLabel = "SECONDS", defaultValue = "900", description = "Give up on a start after this long.")
  int startTimeout;

  @Override
  public Integer call() throws Exception {
    String startedAt = Instant.now().toString();
    Files.createDirectories(out.resolve("runs"));
    for (Path archive : List.of(dockerOptions.functionArchive, nodeArchive)) {
      if (!Files.isRegularFile(archive)) {
        System.err.println("experiment: no image archive " + archive
            + " (build it: openfaas/build-image.sh and ec2/build-node-image.sh, from the repository root)");
        return 3;
      }
    }
    Path testBatch = dockerOptions.testBatch();
    byte[] png = dockerOptions.firstTestImagePng();
    Path pngFile = out.resolve("runs/test-image-0.png");
    Files.write(pngFile, png);
    boolean ab = LoadRuns.ensureAb();
    ExperimentSettings s = new ExperimentSettings(out, repeat != null ? repeat : quick ? 2 : 5, quick,
        "cifar-serve-function:latest", dockerOptions.functionArchive, "cifar-serve-node:latest", nodeArchive, testBatch.getParent(), png,
        pngFile, or(trainLimit, quick ? 2000 : 50_000), or(testLimit, quick ? 1000 : 10_000), epochs != null ? epochs : quick ? 1 : ExperimentSettings.FROM_NOTHING_EPOCHS,
        or(zeroDuration, quick ? 10 : 300), quick ? 8 : 30, quick ? 8 : 30, quick ? 5 : 20, startTimeout, ab,
        "java -jar loadtest/target/cifar-loadtest.jar experiment " + argsLine());
    if (!ab) {
      System.err.println("experiment: Apache ab unavailable (apt-get install apache2-utils failed): no ab cross-check");
    }
    Path dockerWork = Files.createTempDirectory("cifar-exp-docker");
    Results results = new Results();
    Vertx vertx = Vertx.vertx();
    try (DockerCli docker = DockerCli.connect(dockerOptions.dockerHost, dockerWork)) {
      System.err.println("[experiment] docker at " + docker.host() + "; loading " + nodeArchive);
      docker.run(900, "load", "-i", nodeArchive.toString());
      LoadRuns load = new LoadRuns(out.resolve("runs"), pngFile);
      load.warmUpGenerator(vertx);
      ExperimentRun run = new ExperimentRun(s, docker, vertx, load, results, System.err);
      for (int rep = 1; rep <= s.repeat(); rep++) {
        run.repetition(rep);
      }
    } catch (Exception failed) {
      System.err.println("experiment: " + failed.getMessage());
      return 3;
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
      new ProcessBuilder("rm", "-rf", dockerWork.toString()).inheritIO().start().waitFor();
    }
    JsonObject report = Report.json(results, s, startedAt, machine());
    Report.write(out.resolve("report.json"), report);
    ReportMarkdown.write(out.resolve("report.md"), results, s, report);
    Plots.writeAll(out, results, Report.breakEven(results, s.zeroDurationSeconds()));
    System.out.println(headline(results, report));
    List<String> missing = Report.missing(report);
    if (!missing.isEmpty()) {
      System.err.println("experiment: cells without a value: " + missing);
      return 1;
    }
    return 0;
  }

  private String argsLine() {
    StringBuilder b = new StringBuilder("--out " + out);
    if (quick) {
      b.append(" --quick");
    }
    if (repeat != null) {
      b.append(" --repeat ").append(repeat);
    }
    for (Object[] o : new Object[][] {{"--train-limit", trainLimit}, {"--test-limit", testLimit}, {"--epochs", epochs},
        {"--zero-duration", zeroDuration}}) {
      if (o[1] != null) {
        b.append(' ').append(o[0]).append(' ').append(o[1]);
      }
    }
    return b.toString();
  }

  private static int or(Integer value, int otherwise) {
    return value != null ? value : otherwise;
  }

  static JsonObject machine() throws IOException {
    var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    return new JsonObject().put("cpus", Runtime.getRuntime().availableProcessors())
        .put("memoryMiB", os.getTotalMemorySize() / 1048576).put("os", System.getProperty("os.name") + " " + System.getProperty("os.version"))
        .put("java", System.getProperty("java.version")).put("loadAverageAtEnd", Arrays.stream(ProcStats.loadAverage()).mapToObj(Double::toString).collect(Collectors.joining(" ")));
  }

  static String headline(Results r, JsonObject report) {
    StringBuilder b = new StringBuilder("\nexperiment: median (min-max)            function | always-on node\n");
    for (String key : Report.COMMON_KEYS) {
      b.append(String.format(Locale.ROOT, "  %-22s %32s | %s%n", key, r.spread("function", key).format("%.2f"),
          r.spread("alwaysOn", key).format("%.2f")));
    }
    for (String key : Report.FUNCTION_KEYS) {
      b.append(String.format(Locale.ROOT, "  %-22s %32s |%n", key, r.spread("function", key).format("%.2f")));
    }
    b.append("  ab vs cifar-loadtest latency mean (ms), ").append(ExperimentRun.CROSS_CHECK_LONG_REQUESTS)
        .append(" requests: function ").append(r.spread("function", "abLongMeanMs").format("%.1f")).append(" vs ")
        .append(r.spread("function", "loadtestLongMeanMs").format("%.1f")).append("; node ")
        .append(r.spread("alwaysOn", "abLongMeanMs").format("%.1f")).append(" vs ")
        .append(r.spread("alwaysOn", "loadtestLongMeanMs").format("%.1f")).append('\n');
    b.append("  break-even (CPU): ").append(report.getJsonObject("breakEven").getValue("cpuCrossingRequestsPerS")).append(" requests/s\n");
    return b.toString();
  }
}
