package cifarserve.loadtest.experiment;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** One started container of a deployment, with the times of its start-up phases (seconds from `docker create`). */
public final class Container implements AutoCloseable {
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  final DockerCli docker;
  final String name;
  final int port;
  final Map<String, Double> phases = new LinkedHashMap<>();

  private Container(DockerCli docker, String name, int port) {
    this.docker = docker;
    this.name = name;
    this.port = port;
  }

  /**
   * Creates and starts a container, then waits for each phase: HTTP live (/v2/health/live: the JVM
   * reached main and Vert.x listens), model loaded (/v2/health/ready), first correct answer (a real
   * CIFAR-10 test image classified: 200 with a label). Fails with the container's last log lines.
   */
  public static Container start(DockerCli docker, Deployment d, String name, Path cifarDir, Integer trainLimit,
      Integer testLimit, Double epochs, byte[] image, int timeoutSeconds) throws Exception {
    int port = Deployment.freePort();
    docker.removeQuietly(name);
    long t0 = System.nanoTime();
    long t0EpochMillis = System.currentTimeMillis();
    docker.run(120, d.createArgs(name, port, cifarDir, trainLimit, testLimit, epochs).toArray(String[]::new));
    Container c = new Container(docker, name, port);
    c.phases.put("containerCreate", (System.nanoTime() - t0) / 1e9);
    docker.run(120, "start", name);
    c.phases.put("containerStart", (System.nanoTime() - t0) / 1e9);
    long deadline = t0 + timeoutSeconds * 1_000_000_000L;
    c.await("/v2/health/live", null, deadline, d);
    c.phases.put("httpLive", (System.nanoTime() - t0) / 1e9);
    c.await("/v2/health/ready", null, deadline, d);
    c.phases.put("modelLoaded", (System.nanoTime() - t0) / 1e9);
    c.await("/v1/classify", image, deadline, d);
    c.phases.put("firstAnswer", (System.nanoTime() - t0) / 1e9);
    Map<String, Double> marked = withStartupMarks(new LinkedHashMap<>(c.phases), docker.logsTail(name, 100_000), t0EpochMillis);
    c.phases.clear();
    c.phases.putAll(marked);
    return c;
  }

  private static final Pattern MARKS = Pattern.compile("startup marks \\(epoch ms\\): process (-?\\d+), main (-?\\d+)");

  /**
   * The service's own marks (process started, main reached; epoch ms, the host's clock) as phases
   * {@code processStart} and {@code main}, seconds from {@code docker create} like the others, placed before
   * {@code httpLive}; the phases unchanged if the log has no marks.
   */
  static Map<String, Double> withStartupMarks(Map<String, Double> phases, String log, long t0EpochMillis) {
    Matcher m = MARKS.matcher(log);
    if (!m.find() || Long.parseLong(m.group(1)) <= 0 || Long.parseLong(m.group(2)) <= 0) {
      return phases;
    }
    Map<String, Double> ordered = new LinkedHashMap<>();
    phases.forEach((phase, seconds) -> {
      if (phase.equals("httpLive")) {
        ordered.put("processStart", (Long.parseLong(m.group(1)) - t0EpochMillis) / 1e3);
        ordered.put("main", (Long.parseLong(m.group(2)) - t0EpochMillis) / 1e3);
      }
      ordered.put(phase, seconds);
    });
    return ordered;
  }

  private void await(String path, byte[] body, long deadline, Deployment d) throws Exception {
    int tries = 0;
    while (true) {
      try {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(body == null ? 2 : 60));
        if (body != null) {
          b.header("Content-Type", "image/png").POST(HttpRequest.BodyPublishers.ofByteArray(body));
        }
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200 && (body == null || new JsonObject(r.body()).getString("label") != null)) {
          return;
        }
      } catch (IOException | RuntimeException notYet) {
        // not listening yet, or not JSON yet
      }
      // polled every 10 ms (a phase's time is its first answer); `docker inspect` (~50 ms) only every 50th try
      if (++tries % 50 == 0 || System.nanoTime() > deadline) {
        String state = docker.run(30, "inspect", "-f", "{{.State.Status}}", name);
        if (!state.equals("running") || System.nanoTime() > deadline) {
          throw new IOException(d.title() + " never became ready (" + path + " not answered, container " + state
              + "); its last log lines:\n" + docker.logsTail(name, 30));
        }
      }
      Thread.sleep(10);
    }
  }

  /** The served model's test accuracy in percent, from the study's GET (null if it does not say). */
  Double servedAccuracyPercent() throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url("/"))).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    Object accuracy = r.statusCode() == 200 ? new JsonObject(r.body()).getValue("accuracy") : null;
    return accuracy instanceof Number n ? n.doubleValue() * 100 : null;
  }

  public String url(String path) {
    return "http://127.0.0.1:" + port + path;
  }

  @Override
  public void close() {
    docker.removeQuietly(name);
  }
}
