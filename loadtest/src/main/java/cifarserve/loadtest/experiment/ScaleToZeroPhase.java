package cifarserve.loadtest.experiment;

import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The function behind {@link ScaleToZeroProxy} (the emulated OpenFaaS Pro gateway): its cost at zero
 * replicas, the first request at zero (start + /_/ready + answer), the study's line from zero and warm.
 */
final class ScaleToZeroPhase {
  private static final String REPLICA = "exp-function-replica";
  private final ExperimentSettings s;
  private final DockerCli docker;
  private final Vertx vertx;
  private final LoadRuns load;
  private final Results results;

  ScaleToZeroPhase(ExperimentSettings s, DockerCli docker, Vertx vertx, LoadRuns load, Results results) {
    this.s = s;
    this.docker = docker;
    this.vertx = vertx;
    this.load = load;
    this.results = results;
  }

  void run(Deployment function) throws Exception {
    ScaleToZeroProxy proxy = new ScaleToZeroProxy(new ScaleToZeroProxy.Replicas() {
      @Override
      public int start() throws Exception {
        int port = Deployment.freePort();
        docker.removeQuietly(REPLICA);
        docker.run(120, function.createArgs(REPLICA, port, s.cifarDir(), null, null, null).toArray(String[]::new));
        docker.run(120, "start", REPLICA);
        return port;
      }

      @Override
      public void remove() {
        docker.removeQuietly(REPLICA);
      }
    }, s.zeroDurationSeconds() * 1000L);
    String deployment = vertx.deployVerticle(proxy).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    try {
      String url = "http://127.0.0.1:" + proxy.port() + "/v1/classify";
      // at zero replicas nothing of the function runs: its cost is nothing, checked, not assumed
      boolean none = docker.run(30, "ps", "-q", "--filter", "name=" + REPLICA).isEmpty();
      results.add("function", "scaledToZeroCpuPct", none && proxy.atZero() ? 0.0 : null);
      results.add("function", "scaledToZeroMemPct", none && proxy.atZero() ? 0.0 : null);
      long t0 = System.nanoTime();
      classify(url);
      results.add("function", "coldRequestMs", (System.nanoTime() - t0) / 1e6);
      awaitZero(proxy);
      results.add("function", "responseMsStudyLineCold", ExperimentRun.mean(load.run("function-gateway-study-cold",
          load.studyLine(url, true, null))));
      results.add("function", "responseMsStudyLineWarmGateway", ExperimentRun.mean(load.run("function-gateway-study-warm",
          load.studyLine(url, true, null))));
      awaitZero(proxy);
      proxy.coldStarts().forEach(c -> results.add("function", "gatewayColdStartS", c.seconds()));
    } finally {
      vertx.undeploy(deployment).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      docker.removeQuietly(REPLICA);
    }
  }

  private void awaitZero(ScaleToZeroProxy proxy) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(s.zeroDurationSeconds() + 120L);
    while (!proxy.atZero()) {
      if (System.nanoTime() > deadline) {
        throw new IOException("the emulated gateway did not scale the function to zero");
      }
      Thread.sleep(100);
    }
  }

  private void classify(String url) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url))
        .timeout(Duration.ofSeconds(300)).header("Content-Type", "image/png")
        .POST(HttpRequest.BodyPublishers.ofByteArray(s.imagePng())).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IOException("cold request through the emulated gateway: HTTP " + r.statusCode() + " " + r.body());
    }
  }
}
