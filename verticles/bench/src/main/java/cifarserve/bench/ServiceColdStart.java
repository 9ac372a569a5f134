package cifarserve.bench;

import cifarserve.common.ProcStats;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The whole service's cold start, as a client sees it: {@code java -jar cifar-serve.jar serve} is
 * spawned on 127.0.0.1 (free port, existing model, no training), and polled every 10 ms: process
 * spawned → HTTP answers (liveness) → ready (model loaded) → first classification of a real test
 * image answered 200. The server is then stopped with SIGTERM. Every run is bounded (2 minutes).
 */
final class ServiceColdStart {
  private static final long POLL_MS = 10;

  private final String javaBinary;
  private final List<String> jvmArgs;
  private final Map<String, String> env;
  private final Path modelDir;
  private final Path cifarDir;
  private final Path logDir;
  private final HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  ServiceColdStart(String java, List<String> jvmArgs, Map<String, String> env, Path modelDir, Path cifarDir,
                   Path logDir) {
    this.javaBinary = java;
    this.jvmArgs = jvmArgs;
    this.env = env;
    this.modelDir = modelDir;
    this.cifarDir = cifarDir;
    this.logDir = logDir;
  }

  JsonObject measure(int runs) throws IOException, InterruptedException {
    byte[] image = firstTestImage();
    String[] phases = {"spawnToLive", "liveToReady", "readyToFirstPrediction", "total"};
    double[][] values = new double[phases.length][runs];
    JsonArray perRun = new JsonArray();
    for (int r = 0; r < runs; r++) {
      double[] v = once(image, perRun);
      for (int p = 0; p < phases.length; p++) {
        values[p][r] = v[p];
      }
    }
    JsonObject medians = new JsonObject();
    for (int p = 0; p < phases.length; p++) {
      medians.put(phases[p] + "Ms", Samples.round(Samples.median(values[p]), 1));
    }
    List<String> command = new ArrayList<>(List.of(javaBinary));
    command.addAll(jvmArgs);
    command.addAll(List.of("-jar", ChildJvm.nodeJar(), "serve"));
    return new JsonObject().put("runs", runs).put("command", String.join(" ", command))
        .put("phasesMedian", medians).put("perRun", perRun)
        .put("note", "polled every " + POLL_MS + " ms from the benchmark process (resolution ~" + POLL_MS + " ms)");
  }

  private double[] once(byte[] image, JsonArray perRun) throws IOException, InterruptedException {
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    List<String> command = new ArrayList<>(List.of(javaBinary));
    command.addAll(jvmArgs);
    command.addAll(List.of("-jar", ChildJvm.nodeJar(), "serve"));
    Files.createDirectories(logDir);
    Path log = Files.createTempFile(logDir, "serve-", ".log");
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().putAll(env);
    builder.environment().putAll(Map.of("HTTP_HOST", "127.0.0.1", "HTTP_PORT", Integer.toString(port),
        "MODEL_DIR", modelDir.toString(), "TRAIN_ON_START", "false", "CIFAR_DIR", cifarDir.toString(),
        "CLUSTER_ENABLED", "false"));
    String base = "http://127.0.0.1:" + port;
    long spawned = System.nanoTime();
    Process process = builder.start();
    try {
      long deadline = spawned + TimeUnit.MINUTES.toNanos(2);
      long live = poll(process, deadline, () -> get(base + "/v2/health/live"));
      long ready = poll(process, deadline, () -> get(base + "/v2/health/ready"));
      long first = poll(process, deadline, () -> classify(base + "/v1/classify", image));
      double[] v = {(live - spawned) / 1e6, (ready - live) / 1e6, (first - ready) / 1e6, (first - spawned) / 1e6};
      perRun.add(new JsonObject().put("spawnToLiveMs", Samples.round(v[0], 1))
          .put("liveToReadyMs", Samples.round(v[1], 1)).put("readyToFirstPredictionMs", Samples.round(v[2], 1))
          .put("totalMs", Samples.round(v[3], 1)).put("vmRssMb", ProcStats.memory(Long.toString(process.pid())).rssMb())
          .put("loadAverage1m", Machine.loadAverage().getDouble(0)));
      return v;
    } finally {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  private interface Check {
    boolean ok() throws InterruptedException;
  }

  private static long poll(Process process, long deadline, Check check) throws IOException, InterruptedException {
    while (true) {
      if (check.ok()) {
        return System.nanoTime();
      }
      if (!process.isAlive()) {
        throw new IOException("the service exited with " + process.exitValue() + " before answering");
      }
      if (System.nanoTime() > deadline) {
        throw new IOException("the service did not answer within 2 minutes");
      }
      Thread.sleep(POLL_MS);
    }
  }

  private boolean get(String url) throws InterruptedException {
    try {
      return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException e) {
      return false;
    }
  }

  private boolean classify(String url, byte[] image) throws InterruptedException {
    try {
      return client.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
          .header("Content-Type", "application/octet-stream").POST(HttpRequest.BodyPublishers.ofByteArray(image))
          .build(), HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException e) {
      return false;
    }
  }

  private byte[] firstTestImage() throws IOException {
    try (InputStream in = Files.newInputStream(cifarDir.resolve("test_batch.bin"))) {
      in.skipNBytes(1);
      return in.readNBytes(3072);
    }
  }
}
