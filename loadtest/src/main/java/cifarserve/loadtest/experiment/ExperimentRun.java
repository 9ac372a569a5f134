package cifarserve.loadtest.experiment;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * The experiment's sequence for one repetition of both deployments; figures go into {@link Results}.
 * Runs on the command's thread (blocking is fine here: the Vert.x work is in the load tester and the proxy).
 */
final class ExperimentRun {
  /** The ab cross-check's longer line: enough requests for a mean that whole-ms rounding and one slow request do not move. */
  static final int CROSS_CHECK_LONG_REQUESTS = 300;
  private final ExperimentSettings s;
  private final DockerCli docker;
  private final Vertx vertx;
  private final LoadRuns load;
  private final Results results;
  private final PrintStream progress;
  private final ContainerReadings readings;
  private final long startedNanos = System.nanoTime();
  private int stepsDone;
  private final int stepsTotal;

  ExperimentRun(ExperimentSettings s, DockerCli docker, Vertx vertx, LoadRuns load, Results results, PrintStream progress) {
    this.s = s;
    this.docker = docker;
    this.vertx = vertx;
    this.load = load;
    this.results = results;
    this.progress = progress;
    this.readings = new ContainerReadings(docker, vertx);
    this.stepsTotal = s.repeat() * 7;
  }

  void step(int rep, String phase) {
    double elapsed = (System.nanoTime() - startedNanos) / 1e9;
    String eta = stepsDone == 0 ? "?" : String.format(Locale.ROOT, "%.0f s", elapsed / stepsDone * (stepsTotal - stepsDone));
    progress.printf(Locale.ROOT, "[experiment] repetition %d/%d | %s | %.0f s elapsed, ETA %s%n", rep, s.repeat(), phase, elapsed, eta);
    stepsDone++;
  }

  void repetition(int rep) throws Exception {
    Deployment node = Deployment.alwaysOn(s.nodeImage());
    Deployment function = Deployment.function(s.functionImage());

    // 1. startup from nothing (the study's definition): train + evaluate in the node image, same budget
    step(rep, "always-on node: startup from nothing (train " + s.trainLimit() + " images x " + ExperimentSettings.epochsText(s.epochs()) + " epochs + evaluate)");
    try (Container c = Container.start(docker, node, "exp-node-train", s.cifarDir(), s.trainLimit(), s.testLimit(), s.epochs(),
        s.imagePng(), s.startTimeoutSeconds())) {
      double train = c.phases.get("firstAnswer");
      results.add("alwaysOn", "startupFromNothingS", train);
      Double accuracy = c.servedAccuracyPercent();
      results.add("alwaysOn", "fromNothingAccuracyPct", accuracy);
      results.add("function", "fromNothingAccuracyPct", accuracy); // the function serves the model trained here
      results.add("function", "trainingS", train);
    }
    // the function's packaging: its image built from the trained model; timed here as the image load
    step(rep, "function: packaging (docker load of the image archive)");
    try {
      docker.run(120, "rmi", "-f", s.functionImage());  // every repetition loads it from nothing
    } catch (java.io.IOException notLoadedYet) {
      // first repetition
    }
    long t0 = System.nanoTime();
    docker.run(900, "load", "-i", s.functionArchive().toString());
    results.add("function", "packagingS", (System.nanoTime() - t0) / 1e9);

    // 2. startup as deployed, phases; then response, resources (the container stays for these)
    for (Deployment d : List.of(node, function)) {
      step(rep, d.title() + ": startup as deployed, study line, closed and open runs");
      try (Container c = Container.start(docker, d, "exp-" + d.key(), s.cifarDir(), null, null, null, s.imagePng(),
          s.startTimeoutSeconds())) {
        c.phases.forEach((phase, seconds) -> results.add(d.key(), "phase." + phase, seconds));
        results.add(d.key(), "startupAsDeployedS", c.phases.get("firstAnswer"));
        results.add(d.key(), "coldStartCpuS", readings.cpuSeconds(c.name));
        results.add(d.key(), "coldStartMiB", readings.memoryMiB(c.name));
        if (d == function) {
          results.add("function", "startupFromNothingS", results.last("function", "trainingS")
              + results.last("function", "packagingS") + c.phases.get("firstAnswer"));
        }
        measureWarm(rep, d, c);
      }
    }
    // 3. the function behind the emulated gateway: scale to zero, cold requests
    step(rep, "function: scale to zero (emulated gateway), cold requests");
    new ScaleToZeroPhase(s, docker, vertx, load, results).run(function);
  }

  private void measureWarm(int rep, Deployment d, Container c) throws Exception {
    JsonObject get = load.run(d.key() + "-study-get", load.studyLine(c.url("/"), false, null));
    results.add(d.key(), "responseMsStudyLineGet", mean(get));
    JsonObject study = load.run(d.key() + "-study-classify", load.studyLine(c.url("/v1/classify"), true, null));
    results.add(d.key(), "responseMsStudyLine", mean(study));
    // closed run: idle window first (idle resources), then enough requests for a p99
    JsonObject closed = load.run(d.key() + "-closed", List.of("-c", "4", "-k", "-t", s.closedSeconds() + "s",
        "--warmup", "2s", "--cifar-records", "100", "--cifar-format", "png", "--cgroup", readings.cgroupOf(c.name),
        "--idle-before", s.idleSeconds() + "s", "--idle-after", "1s", "-s", "60", c.url("/v1/classify")));
    double capacity = closed.getDouble("throughputPerSecond");
    results.add(d.key(), "capacityPerS", capacity);
    results.add(d.key(), "closedP99Ms", closed.getJsonObject("latencyMs").getDouble("p99"));
    results.add(d.key(), "closedP50Ms", closed.getJsonObject("latencyMs").getDouble("p50"));
    results.addResources(d.key(), closed);
    if (rep == 1) {
      results.keepRun(d.key(), "closed", closed);
      if (s.abAvailable()) {
        crossCheckWithAb(d, c);
      }
    }
    JsonObject open = load.run(d.key() + "-open", List.of("-c", "16", "-k", "--rate", String.format(Locale.ROOT, "%.2f", 0.7 * capacity),
        "-t", s.openSeconds() + "s", "--cifar-records", "100", "--cifar-format", "png", "--cgroup", readings.cgroupOf(c.name),
        "--idle-before", "0s", "--idle-after", "0s", "-s", "60", c.url("/v1/classify")));
    results.add(d.key(), "openP50Ms", open.getJsonObject("latencyMs").getDouble("p50"));
    results.add(d.key(), "openP99Ms", open.getJsonObject("latencyMs").getDouble("p99"));
    if (rep == 1) {
      results.keepRun(d.key(), "open", open);
    }
  }

  /**
   * ab and the load tester on the study's line, in alternating order, three pairs, on a server the closed run has
   * warmed: on a freshly started JVM whichever tool went first would also time the server's JIT warm-up. Ten requests
   * timed in whole ms (ab) cannot show whether two tools agree, so the same line is then run with
   * {@link #CROSS_CHECK_LONG_REQUESTS} requests, three pairs again: that is the comparison the report judges.
   */
  private void crossCheckWithAb(Deployment d, Container c) throws Exception {
    String url = c.url("/v1/classify");
    crossCheckPairs(d, url, LoadRuns.STUDY_REQUESTS, "");
    crossCheckPairs(d, url, CROSS_CHECK_LONG_REQUESTS, "Long");
  }

  private void crossCheckPairs(Deployment d, String url, int requests, String keySuffix) throws Exception {
    for (int pair = 0; pair < 3; pair++) {
      LoadRuns.AbRun ab = null;
      if (pair % 2 == 1) {
        ab = LoadRuns.ab(requests, url, s.imagePngFile());
      }
      JsonObject ours = load.run(d.key() + "-ab-cross-check" + (keySuffix.isEmpty() ? "" : "-" + requests),
          load.studyLine(requests, url, true, null));
      if (ab == null) {
        ab = LoadRuns.ab(requests, url, s.imagePngFile());
      }
      results.add(d.key(), "ab" + keySuffix + "MeanMs", ab.latencyMeanMs());
      results.add(d.key(), "loadtest" + keySuffix + "MeanMs", mean(ours));
      results.add(d.key(), "ab" + keySuffix + "TimePerRequestMs", ab.timePerRequestMs());
      results.add(d.key(), "loadtest" + keySuffix + "TimePerRequestMs", LoadRuns.timePerRequestMs(ours, 2));
    }
  }

  static double mean(JsonObject run) {
    return run.getJsonObject("latencyMs").getDouble("mean");
  }
}
