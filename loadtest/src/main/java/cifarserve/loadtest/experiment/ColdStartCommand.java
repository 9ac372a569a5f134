package cifarserve.loadtest.experiment;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code cifar-loadtest coldstart}: cold starts of the OpenFaaS function image, timed in the experiment's
 * as-deployed phases, and what its build-time work buys: the same image without its AppCDS/AOT archive,
 * and the plain jar extracting ONNX Runtime's library into /tmp at every start. A measurement, not a
 * test: it prints medians and writes every start to a JSON file (openfaas/container-tests.sh's JUnit
 * tests check that a cold start answers correctly).
 */
@Command(name = "coldstart", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Starts the function image --repeat times under its deployed limits (2 CPUs, 4 GiB, read-only root)",
        "and times each phase to the first correct answer, plus the CPU it used; then the variants. Writes --json."})
public final class ColdStartCommand implements Callable<Integer> {
  @Option(names = "--repeat", paramLabel = "N", defaultValue = "5", description = "Cold starts of the image as built (default ${DEFAULT-VALUE}).")
  int repeat;
  @Option(names = "--variant-repeat", paramLabel = "N", defaultValue = "3",
      description = "Cold starts of each variant (default ${DEFAULT-VALUE}; 0: none).")
  int variantRepeat;
  @Mixin
  DockerOptions dockerOptions;
  @Option(names = "--plain-jar", paramLabel = "JAR", description = "The function's jar as Maven builds it, for the variant that extracts its natives at start."
      + " Default: the one build-image.sh used (openfaas/target/jar-path).")
  Path plainJar;
  @Option(names = "--json", paramLabel = "FILE", defaultValue = "openfaas/target/coldstart.json", description = "Default: ${DEFAULT-VALUE}")
  Path json;
  @Option(names = "--start-timeout", paramLabel = "SECONDS", defaultValue = "240", description = "Give up on a start after this long.")
  int startTimeout;

  static final String IMAGE = "cifar-serve-function:latest";

  @Override
  public Integer call() throws Exception {
    Path archive = dockerOptions.functionArchive;
    if (!Files.isRegularFile(archive)) {
      System.err.println("coldstart: no image archive " + archive + " (openfaas/build-image.sh, from the repository root)");
      return 3;
    }
    byte[] png = dockerOptions.firstTestImagePng();
    JsonObject report = new JsonObject().put("startedAt", Instant.now().toString()).put("image", IMAGE)
        .put("archiveBytes", Files.size(archive)).put("limits", Deployment.CPUS + " CPUs, " + Deployment.MEMORY + ", read-only root");
    Path dockerWork = Files.createTempDirectory("cifar-coldstart-docker");
    Vertx vertx = Vertx.vertx();
    JsonObject variants = new JsonObject();
    try (DockerCli docker = DockerCli.connect(dockerOptions.dockerHost, dockerWork)) {
      docker.run(900, "load", "-i", archive.toString());
      ContainerReadings readings = new ContainerReadings(docker, vertx);
      for (Map.Entry<Deployment, Integer> v : variants(docker, archive).entrySet()) {
        variants.put(v.getKey().key(), startsOf(docker, readings, v.getKey(), v.getValue(), png));
      }
    } catch (Exception failed) {
      System.err.println("coldstart: " + failed.getMessage());
      return 3;
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get();
      new ProcessBuilder("rm", "-rf", dockerWork.toString()).inheritIO().start().waitFor();
    }
    report.put("variants", variants).put("machine", ExperimentCommand.machine());
    Files.createDirectories(json.toAbsolutePath().getParent());
    Files.writeString(json, report.encodePrettily());
    System.err.println("coldstart: every start in " + json);
    return 0;
  }

  /** The image as built, then (with --variant-repeat > 0) the variants that undo its build-time work. */
  private Map<Deployment, Integer> variants(DockerCli docker, Path archive) throws Exception {
    Deployment asBuilt = Deployment.function(IMAGE).variant("image", "the image as built", List.of(), List.of());
    Map<Deployment, Integer> out = new LinkedHashMap<>();
    out.put(asBuilt, repeat);
    if (variantRepeat <= 0) {
      return out;
    }
    JsonArray entrypoint = new JsonArray(docker.run(30, "image", "inspect", "-f", "{{json .Config.Entrypoint}}", IMAGE));
    List<String> jvmArgs = new ArrayList<>();
    for (int i = 1; i < entrypoint.size(); i++) {
      String arg = entrypoint.getString(i);
      if (!arg.startsWith("-XX:SharedArchiveFile=") && !arg.startsWith("-XX:AOTCache=")) {
        jvmArgs.add(arg);
      }
    }
    if (jvmArgs.size() < entrypoint.size() - 1) {
      out.put(asBuilt.variant("withoutAppCds", "the same image without its AppCDS/AOT archive (JDK CDS only)",
          List.of("--entrypoint", entrypoint.getString(0)), jvmArgs), variantRepeat);
    }
    Path jar = plainJar;
    Path recorded = archive.toAbsolutePath().resolveSibling("jar-path");
    if (jar == null && Files.isRegularFile(recorded)) {
      jar = Path.of(Files.readString(recorded).trim());
    }
    if (jar != null && Files.isRegularFile(jar)) {
      out.put(asBuilt.variant("plainJar", "the plain jar, ONNX Runtime's library extracted into /tmp at every start (no AppCDS)",
          List.of("-v", jar.toAbsolutePath() + ":/opt/plain/cifar-serve.jar:ro", "-e", "LD_LIBRARY_PATH=",
              "--entrypoint", "/opt/java/bin/java"),
          List.of("-Djava.awt.headless=true", "-jar", "/opt/plain/cifar-serve.jar", "serve", "--conf", "/app/conf/openfaas.json")),
          variantRepeat);
    } else {
      System.err.println("coldstart: no plain jar (" + jar + "): the plain-jar variant is left out");
    }
    return out;
  }

  private JsonObject startsOf(DockerCli docker, ContainerReadings readings, Deployment d, int count, byte[] png) throws Exception {
    System.err.println("coldstart: " + d.title() + " (" + count + " starts)");
    JsonArray starts = new JsonArray();
    Map<String, List<Double>> byFigure = new LinkedHashMap<>();
    for (int i = 1; i <= count; i++) {
      try (Container c = Container.start(docker, d, "coldstart-" + d.key(), null, null, null, null, png, startTimeout)) {
        Map<String, Double> figures = new LinkedHashMap<>(c.phases);
        figures.put("cpuS", readings.cpuSeconds(c.name));
        figures.put("memoryMiB", readings.memoryMiB(c.name));
        figures.forEach((k, v) -> byFigure.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
        starts.add(new JsonObject(new LinkedHashMap<>(figures)));
        System.err.printf(Locale.ROOT, "  start %d: first answer at %.2f s, %.2f CPU-s, %.0f MiB%n", i, figures.get("firstAnswer"),
            orNaN(figures.get("cpuS")), orNaN(figures.get("memoryMiB")));
      }
    }
    JsonObject medians = new JsonObject();
    byFigure.forEach((figure, values) -> medians.put(figure, Spread.of(values).toJson()));
    System.out.println(String.format(Locale.ROOT, "%-16s median of %d: %s", d.key(), count, summary(byFigure)));
    return new JsonObject().put("title", d.title()).put("options", new JsonArray(d.options())).put("command", new JsonArray(d.command()))
        .put("starts", starts).put("spread", medians);
  }

  private static String summary(Map<String, List<Double>> byFigure) {
    List<String> parts = new ArrayList<>();
    byFigure.forEach((figure, values) -> parts.add(figure + " " + Spread.of(values).format("%.2f")));
    return String.join("; ", parts);
  }

  private static double orNaN(Double v) {
    return v == null ? Double.NaN : v;
  }
}
