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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
        "and times each phase to the first correct answer, plus the CPU it used; the variants and --compare images start in",
        "turn with it. Writes --json."})
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
  @Option(names = "--compare", paramLabel = "TAR", description = "Another function image archive (e.g. the image before a change,"
      + " or one built with JDK 25's AOT cache), started --repeat times too; repeatable. All images start in turn, so a"
      + " busy machine weighs on each alike.")
  List<Path> compare = List.of();
  @Option(names = "--json", paramLabel = "FILE", defaultValue = "openfaas/target/coldstart.json", description = "Default: ${DEFAULT-VALUE}")
  Path json;
  @Option(names = "--start-timeout", paramLabel = "SECONDS", defaultValue = "240", description = "Give up on a start after this long.")
  int startTimeout;

  static final String IMAGE = "cifar-serve-function:latest";
  private static final Pattern LOADED_IMAGE = Pattern.compile("Loaded image: (\\S+)");

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
      List<Deployment> compared = loadCompared(docker);
      docker.run(900, "load", "-i", archive.toString());
      ContainerReadings readings = new ContainerReadings(docker, vertx);
      Map<Deployment, Integer> counts = new LinkedHashMap<>();
      compared.forEach(d -> counts.put(d, repeat));
      counts.putAll(variants(docker, archive));
      startsInTurn(docker, readings, counts, png).forEach(variants::put);
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

  /**
   * Loads each --compare archive under a tag of its own (archives built by build-image.sh all name their image
   * cifar-serve-function:latest, which the image under test then takes back).
   */
  private List<Deployment> loadCompared(DockerCli docker) throws Exception {
    List<Deployment> out = new ArrayList<>();
    for (int i = 0; i < compare.size(); i++) {
      String loaded = docker.run(900, "load", "-i", compare.get(i).toString());
      Matcher name = LOADED_IMAGE.matcher(loaded);
      if (!name.find()) {
        throw new IllegalStateException("docker load named no image for " + compare.get(i) + ": " + loaded);
      }
      String tag = "cifar-serve-function:compare-" + (i + 1);
      docker.run(30, "tag", name.group(1).trim(), tag);
      out.add(new Deployment("compare" + (i + 1), compare.get(i).toString(), tag, false, List.of(), List.of()));
    }
    return out;
  }

  /** Round-robin: one start of each deployment that has starts left, then the next round. */
  private Map<String, JsonObject> startsInTurn(DockerCli docker, ContainerReadings readings, Map<Deployment, Integer> counts,
      byte[] png) throws Exception {
    Map<Deployment, JsonArray> starts = new LinkedHashMap<>();
    Map<Deployment, Map<String, List<Double>>> byFigure = new LinkedHashMap<>();
    counts.keySet().forEach(d -> {
      starts.put(d, new JsonArray());
      byFigure.put(d, new LinkedHashMap<>());
    });
    int rounds = counts.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    for (int round = 1; round <= rounds; round++) {
      for (Map.Entry<Deployment, Integer> entry : counts.entrySet()) {
        if (round <= entry.getValue()) {
          Deployment d = entry.getKey();
          Map<String, Double> figures = oneStart(docker, readings, d, png);
          figures.forEach((k, v) -> byFigure.get(d).computeIfAbsent(k, x -> new ArrayList<>()).add(v));
          starts.get(d).add(new JsonObject(new LinkedHashMap<>(figures)));
          System.err.printf(Locale.ROOT, "  %s, start %d: first answer at %.2f s, %.2f CPU-s, %.0f MiB%n", d.key(), round,
              figures.get("firstAnswer"), orNaN(figures.get("cpuS")), orNaN(figures.get("memoryMiB")));
        }
      }
    }
    Map<String, JsonObject> out = new LinkedHashMap<>();
    for (Deployment d : counts.keySet()) {
      JsonObject medians = new JsonObject();
      byFigure.get(d).forEach((figure, values) -> medians.put(figure, Spread.of(values).toJson()));
      System.out.println(String.format(Locale.ROOT, "%-16s median of %d: %s", d.key(), counts.get(d), summary(byFigure.get(d))));
      out.put(d.key(), new JsonObject().put("title", d.title()).put("image", d.image()).put("options", new JsonArray(d.options()))
          .put("command", new JsonArray(d.command())).put("starts", starts.get(d)).put("spread", medians));
    }
    return out;
  }

  private Map<String, Double> oneStart(DockerCli docker, ContainerReadings readings, Deployment d, byte[] png) throws Exception {
    try (Container c = Container.start(docker, d, "coldstart-" + d.key(), null, null, null, null, png, startTimeout)) {
      Map<String, Double> figures = new LinkedHashMap<>(c.phases);
      figures.put("cpuS", readings.cpuSeconds(c.name));
      figures.put("memoryMiB", readings.memoryMiB(c.name));
      return figures;
    }
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
