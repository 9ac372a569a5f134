package cifarserve.loadtest.experiment;

import cifarserve.loadtest.cli.LoadTestCommand;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs the load tester's own command (same generator, HdrHistogram stats, cgroup probes) and reads its JSON. */
final class LoadRuns {
  private static final Pattern AB_TIME_PER_REQUEST = Pattern.compile("Time per request:\\s+([0-9.]+) \\[ms\\] \\(mean\\)");
  private static final Pattern AB_TOTAL_ROW = Pattern.compile("(?m)^Total:\\s+[0-9.]+\\s+([0-9.]+)");
  /** The study's request count: ab -n 10. */
  static final int STUDY_REQUESTS = 10;
  private final Path dir;
  private final Path image;
  private int runs;

  LoadRuns(Path dir, Path image) {
    this.dir = dir;
    this.image = image;
  }

  /** One load-test run; {@code args} are the load tester's options, the URL last. The JSON is kept in DIR/runs/. */
  JsonObject run(String label, List<String> args) throws IOException {
    Path json = dir.resolve(String.format(Locale.ROOT, "%03d-%s.json", ++runs, label));
    List<String> all = new ArrayList<>(List.of("-q", "--progress", "never", "--json", json.toString()));
    all.addAll(args);
    StringWriter text = new StringWriter();
    int exit = LoadTestCommand.commandLine().setOut(new PrintWriter(text)).setErr(new PrintWriter(text))
        .execute(all.toArray(String[]::new));
    Files.writeString(dir.resolve(json.getFileName().toString().replace(".json", ".txt")), text.toString());
    if (exit != 0 || !Files.exists(json)) {
      throw new IOException("load test '" + label + "' failed (exit " + exit + "): " + text);
    }
    return new JsonObject(Files.readString(json));
  }

  /** The study's line: ab's -n 10 -c 2 -s 300, posting a real CIFAR-10 test image (or GET when {@code post} is false). */
  List<String> studyLine(String url, boolean post, String cgroup) {
    return studyLine(STUDY_REQUESTS, url, post, cgroup);
  }

  /** The study's line with another request count (the ab cross-check's longer variant). */
  List<String> studyLine(int requests, String url, boolean post, String cgroup) {
    List<String> args = new ArrayList<>(List.of("-n", Integer.toString(requests), "-c", "2", "-s", "300"));
    if (post) {
      args.addAll(List.of("-p", image.toString(), "-T", "image/png"));
    }
    if (cgroup != null) {
      args.addAll(List.of("--cgroup", cgroup, "--idle-before", "0s", "--idle-after", "0s"));
    }
    args.add(url);
    return args;
  }

  /**
   * Apache ab on the study's line ({@code requests} instead of its 10). Both of its means: "Time per request" (concurrency x wall time / requests, the
   * figure the study quoted) and the mean of the per-request totals in its "Connection Times" table (whole ms).
   */
  static AbRun ab(int requests, String url, Path image) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("ab", "-n", Integer.toString(requests), "-c", "2", "-s", "300", "-p", image.toString(),
        "-T", "image/png", url)
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("ab failed: " + out);
    }
    Matcher perRequest = AB_TIME_PER_REQUEST.matcher(out);
    Matcher total = AB_TOTAL_ROW.matcher(out);
    if (!perRequest.find() || !total.find()) {
      throw new IOException("no 'Time per request' or 'Total:' row in ab's output: " + out);
    }
    return new AbRun(Double.parseDouble(perRequest.group(1)), Double.parseDouble(total.group(1)));
  }

  /** ab's two means, in ms. */
  record AbRun(double timePerRequestMs, double latencyMeanMs) {}

  /** The same "Time per request" ab prints, from a load-tester run: concurrency x wall time / requests. */
  static double timePerRequestMs(JsonObject run, int concurrency) {
    return concurrency * run.getDouble("elapsedSeconds") * 1000 / run.getJsonObject("latencyMs").getInteger("count");
  }

  /**
   * Warms the load tester's own code paths (HTTP client, HdrHistogram, payload reading) against a throw-away
   * server on 127.0.0.1 before anything is measured: otherwise the first run also times the generator's JIT,
   * which on 2 cores competes with the target for CPU.
   */
  void warmUpGenerator(Vertx vertx) throws Exception {
    HttpServer stub = vertx.createHttpServer()
        .requestHandler(req -> req.body().onComplete(body -> req.response().putHeader("Content-Type", "application/json")
            .end("{\"label\":\"cat\"}")))
        .listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    try {
      String url = "http://127.0.0.1:" + stub.actualPort() + "/v1/classify";
      run("generator-warm-up", List.of("-n", "3000", "-c", "2", "-t", "10s", "-p", image.toString(), "-T", "image/png", url));
    } finally {
      stub.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  /** Installs Debian's apache2-utils (ab) if it is missing and we are root; false when ab stays unavailable. */
  static boolean ensureAb() throws InterruptedException {
    if (onPath("ab")) {
      return true;
    }
    try {
      Process p = new ProcessBuilder("sh", "-c", "DEBIAN_FRONTEND=noninteractive apt-get install -y -q apache2-utils"
          + " || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q apache2-utils)")
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      p.waitFor(600, TimeUnit.SECONDS);
    } catch (IOException e) {
      return false;
    }
    return onPath("ab");
  }

  static boolean onPath(String program) {
    for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!d.isEmpty() && Files.isExecutable(Path.of(d, program))) {
        return true;
      }
    }
    return false;
  }
}
