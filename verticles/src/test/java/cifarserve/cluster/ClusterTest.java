package cifarserve.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import cifarserve.TestData;
import cifarserve.TestServers;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The cluster mode with real, separate JVM processes on 127.0.0.1 (cluster names unique to the run, so
 * parallel runs never meet). Each test sets up what it needs and runs alone or in any order:
 * <ul>
 *   <li>takeover, on a cluster of its own: A trains a long run; B (also configured to train) waits for
 *       the trainer lock, C joins. A is SIGKILLed mid-training: B takes the lock and trains; C gets
 *       B's model.</li>
 *   <li>the others share a serving cluster ({@link #servingNodes}), started on first use: a node that
 *       trains a short run, plus nodes that only serve, added as a test needs them. A late node with an
 *       empty model folder loads the cluster's model without training; every node answers with the same
 *       model; under a bounded load over three nodes (concurrency 8, every busy node spilling work to
 *       the others) one is SIGKILLed: the survivors' requests must fail less than 1 %.</li>
 * </ul>
 * Figures are printed and written to target/cluster-figures.json.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClusterTest {
  private static final int LOAD_REQUESTS = 360;
  private static final int CONCURRENCY = 8;

  private final Map<String, Object> figures = new LinkedHashMap<>();
  private final List<ClusterNode> nodes = new ArrayList<>();
  private Path runDir;
  private String runName;
  private Path clusterXml;
  private Vertx vertx;
  private WebClient client;
  private NodeClient nodeClient;
  /** The shared serving cluster: its live nodes (the first trained) and the model they serve. */
  private final List<ClusterNode> serving = new ArrayList<>();
  private String servingVersion;
  private int servingStarted;

  @BeforeAll
  void startClient() throws Exception {
    runName = "cifar-serve-test-" + UUID.randomUUID();
    runDir = Files.createDirectories(Path.of("target", "cluster-test", runName)).toAbsolutePath();
    clusterXml = ClusterNode.patientClusterXml(runDir);
    vertx = Vertx.vertx();
    client = WebClient.create(vertx, new WebClientOptions().setConnectTimeout(2_000),
        new PoolOptions().setHttp1MaxSize(CONCURRENCY));
    nodeClient = new NodeClient(client);
    Runtime.getRuntime().addShutdownHook(new Thread(this::killAll));
  }

  private ClusterNode start(String name, String cluster, Map<String, String> env) throws Exception {
    Map<String, String> all = new LinkedHashMap<>(Map.of(
        "TRAIN_EPOCHS", "1",
        "TEST_LIMIT", "200",
        // Spill as soon as anything runs locally: the test wants plenty of cross-node dispatch.
        "CLUSTER_SPILL_QUEUE_IMAGES", "1",
        "CLUSTER_HOP_TIMEOUT_MS", "2000",
        "CLUSTER_TRAINER_LOCK_WAIT_MS", "1000",
        "CLUSTER_MODEL_SYNC_MS", "2000"));
    all.putAll(env);
    ClusterNode node = ClusterNode.start(name, runName + "-" + cluster, clusterXml, runDir, all);
    nodes.add(node);
    System.out.println("started node " + node + ", log " + node.log);
    return node;
  }

  /**
   * At least {@code count} ready nodes of the shared serving cluster, all with its model: the first
   * trains a short run on first use, the others only serve.
   */
  private List<ClusterNode> servingNodes(int count) throws Exception {
    if (serving.isEmpty()) {
      ClusterNode trainer = start("serving-trainer", "serving", Map.of("TRAIN_ON_START", "true", "TRAIN_LIMIT", "320"));
      JsonObject done = poll(trainer, "/train/status", 300_000, (status, body) -> "done".equals(body.getString("state")));
      servingVersion = done.getJsonObject("lastModel").getString("version");
      serving.add(trainer);
    }
    while (serving.size() < count) {
      serving.add(startServingNode("serving-" + ++servingStarted));
    }
    return List.copyOf(serving);
  }

  private ClusterNode startServingNode(String name) throws Exception {
    ClusterNode node = start(name, "serving", Map.of("TRAIN_ON_START", "false"));
    poll(node, "/v2/health/ready", 280_000, (status, body) -> status == 200);
    return node;
  }

  @Test
  @Timeout(value = 600, unit = TimeUnit.SECONDS)
  void aWaitingNodeTrainsWhenTheTrainerIsKilledMidTraining() throws Exception {
    // A trains a long run (it will be killed mid-way); B, if it ever trains, a short one.
    ClusterNode a = start("a", "takeover", Map.of("TRAIN_ON_START", "true", "TRAIN_LIMIT", "6400"));
    // A takes the trainer lock before its HTTP side is up: B, started after that, finds it held.
    poll(a, "/train/status", 300_000, (status, body) -> status == 200 && isRunning(body));
    figures.put("firstNodeLiveMs", a.millisSinceStart());
    ClusterNode b = start("b", "takeover", Map.of("TRAIN_ON_START", "true", "TRAIN_LIMIT", "320"));
    ClusterNode c = start("c", "takeover", Map.of("TRAIN_ON_START", "false"));
    try {
      takeover(a, b, c);
    } finally {
      ClusterNode.killAll(List.of(a, b, c)); // the other tests do not need them: free the CPU
    }
  }

  private void takeover(ClusterNode a, ClusterNode b, ClusterNode c) throws Exception {
    poll(c, "/v2/health/live", 300_000, (status, body) -> status == 200);
    JsonObject waiting = poll(b, "/train/status", 300_000,
        (status, body) -> status == 200 && body.getString("message", "").contains("waiting"));
    System.out.println("b waits for the trainer lock: " + waiting.getString("message"));
    awaitMembers(c, 3);
    assertThat(isRunning(get(a, "/train/status").body())).as("a is still training").isTrue();
    assertThat(get(c, "/").status()).as("no model anywhere yet").isEqualTo(503);

    a.kill();
    long killed = System.nanoTime();
    poll(b, "/train/status", 60_000, (status, body) -> isRunning(body) || "done".equals(body.getString("state")));
    long takeoverMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
    JsonObject done = poll(b, "/train/status", 300_000, (status, body) -> "done".equals(body.getString("state")));
    String version = done.getJsonObject("lastModel").getString("version");
    long trainedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killed);
    figures.put("trainerTakeoverMs", takeoverMs);
    figures.put("killToNewModelMs", trainedMs);
    System.out.printf("trainer a SIGKILLed: b took the lock and started training after %d ms; model %s after %d ms%n",
        takeoverMs, version, trainedMs);

    for (ClusterNode node : List.of(b, c)) {
      JsonObject root = poll(node, "/", 60_000, (status, body) -> status == 200);
      assertThat(root.getString("version")).as(node.name + " serves b's model").isEqualTo(version);
    }
    assertThat(get(c, "/train/status").body().getString("state")).as("c never trained").isEqualTo("idle");
  }

  @Test
  @Timeout(value = 600, unit = TimeUnit.SECONDS)
  void aLateNodeLoadsTheClusterModelWithoutTraining() throws Exception {
    servingNodes(1);
    String version = servingVersion;
    ClusterNode d = start("late", "serving", Map.of("TRAIN_ON_START", "false"));
    poll(d, "/v2/health/live", 280_000, (status, body) -> status == 200);
    long liveMs = d.millisSinceStart();
    poll(d, "/v2/health/ready", 280_000, (status, body) -> status == 200);
    long readyMs = d.millisSinceStart();
    figures.put("lateJoinLiveMs", liveMs);
    figures.put("lateJoinReadyMs", readyMs);
    figures.put("lateJoinModelAfterLiveMs", readyMs - liveMs);
    System.out.printf("late node d: HTTP up %d ms after process start, ready with model %s after %d ms%n",
        liveMs, version, readyMs);

    assertThat(get(d, "/").body().getString("version")).isEqualTo(version);
    JsonObject training = get(d, "/train/status").body();
    assertThat(training.getString("state")).as("d did not train").isEqualTo("idle");
    assertThat(training.containsKey("lastModel")).isFalse();
    assertThat(d.modelDir.resolve(version + ".zip")).as("artifact fetched from the cluster").isRegularFile();
    assertThat(d.modelDir.resolve(version + ".onnx")).as("with its ONNX twin").isRegularFile();
    serving.add(d); // a serving node like the others from now on
  }

  @Test
  @Timeout(value = 600, unit = TimeUnit.SECONDS)
  void everyNodeAnswersWithTheSameModel() throws Exception {
    List<ClusterNode> all = servingNodes(3);
    for (ClusterNode node : all) {
      awaitMembers(node, all.size());
    }
    Buffer image = Buffer.buffer(TestData.testImages().image(0));
    for (ClusterNode node : all) {
      assertThat(get(node, "/").body().getString("version")).as(node.name).isEqualTo(servingVersion);
      for (int i = 0; i < 4; i++) {
        HttpResponse<Buffer> response = TestServers.await(classify(node, image));
        assertThat(response.statusCode()).as(node.name + ": " + response.bodyAsString()).isEqualTo(200);
        assertThat(response.bodyAsJsonObject().getString("modelVersion")).isEqualTo(servingVersion);
      }
    }
  }

  @Test
  @Timeout(value = 600, unit = TimeUnit.SECONDS)
  void killingANodeUnderLoadLosesNoSurvivorRequests() throws Exception {
    List<ClusterNode> targets = servingNodes(3).subList(0, 3);
    for (ClusterNode node : targets) {
      awaitMembers(node, serving.size());
    }
    List<Buffer> images = new ArrayList<>();
    for (int i = 0; i < 16; i++) {
      images.add(Buffer.buffer(TestData.testImages().image(i)));
    }
    ClusterNode victim = targets.get(1);
    List<ClusterNode> survivors = List.of(targets.get(0), targets.get(2));
    serving.remove(victim);
    record Outcome(String node, int status, long micros, boolean afterKill) {
    }
    ConcurrentLinkedQueue<Outcome> outcomes = new ConcurrentLinkedQueue<>();
    AtomicInteger issued = new AtomicInteger();
    AtomicInteger completed = new AtomicInteger();
    long[] killedAt = {0};
    boolean[] victimDown = {false};

    class Worker {
      final Promise<Void> done = Promise.promise();

      void next() {
        int i = issued.getAndIncrement();
        if (i >= LOAD_REQUESTS) {
          done.tryComplete();
          return;
        }
        // Round-robin over the nodes; once the victim is down no new request goes to it (as a
        // load balancer would stop sending), but those in flight to it at the kill are lost.
        ClusterNode target = victimDown[0] ? survivors.get(i % 2) : targets.get(i % 3);
        boolean afterKill = victimDown[0];
        long started = System.nanoTime();
        classify(target, images.get(i % images.size())).onComplete(ar -> {
          int status = ar.succeeded() ? ar.result().statusCode() : -1;
          outcomes.add(new Outcome(target.name, status, (System.nanoTime() - started) / 1000, afterKill));
          if (completed.incrementAndGet() == LOAD_REQUESTS / 3) {
            victimDown[0] = true;
            new Thread(() -> {
              try {
                victim.kill();
                killedAt[0] = System.nanoTime();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }, "kill-" + victim.name).start();
          }
          next();
        });
      }
    }
    long loadStarted = System.nanoTime();
    List<Future<Void>> workers = new ArrayList<>();
    vertx.runOnContext(v -> {
      for (int i = 0; i < CONCURRENCY; i++) {
        Worker worker = new Worker();
        workers.add(worker.done.future());
        worker.next();
      }
    });
    while (workers.size() < CONCURRENCY) {
      Thread.sleep(10);
    }
    TestServers.await(Future.all(workers));
    long loadMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - loadStarted);
    assertThat(victim.alive()).as("victim was killed").isFalse();

    List<Outcome> all = new ArrayList<>(outcomes);
    long survivorRequests = all.stream().filter(o -> !o.node().equals(victim.name)).count();
    long survivorErrors = all.stream().filter(o -> !o.node().equals(victim.name) && o.status() != 200).count();
    long survivorErrorsAfterKill = all.stream()
        .filter(o -> !o.node().equals(victim.name) && o.afterKill() && o.status() != 200).count();
    long victimRequests = all.stream().filter(o -> o.node().equals(victim.name)).count();
    long victimFailed = all.stream().filter(o -> o.node().equals(victim.name) && o.status() != 200).count();
    long slowestSurvivorMs = all.stream().filter(o -> !o.node().equals(victim.name))
        .mapToLong(Outcome::micros).max().orElse(0) / 1000;
    Map<String, Long> statuses = new LinkedHashMap<>();
    all.stream().filter(o -> !o.node().equals(victim.name) && o.status() != 200)
        .forEach(o -> statuses.merge(String.valueOf(o.status()), 1L, Long::sum));

    // Serving recovers: every survivor answers again, and work still crosses between them.
    Buffer image = images.get(0);
    for (ClusterNode node : survivors) {
      for (int i = 0; i < 5; i++) {
        HttpResponse<Buffer> response = TestServers.await(classify(node, image));
        assertThat(response.statusCode()).as(node.name + " after the kill: " + response.bodyAsString()).isEqualTo(200);
      }
    }
    Map<String, Double> forwarded = new LinkedHashMap<>();
    double handedOver = 0;
    for (ClusterNode node : survivors) {
      String metrics = TestServers.await(client.get(node.port, "127.0.0.1", "/metrics").send()).bodyAsString();
      for (String line : metrics.split("\n")) {
        if (line.startsWith("cifar_cluster_forwarded_total{")) {
          String outcome = line.replaceAll(".*outcome=\"([^\"]*)\".*", "$1");
          forwarded.merge(outcome, Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1)), Double::sum);
        } else if (line.startsWith("cifar_cluster_handed_over_total")) {
          handedOver += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
    }

    figures.put("loadRequests", all.size());
    figures.put("loadConcurrency", CONCURRENCY);
    figures.put("loadMs", loadMs);
    figures.put("survivorRequests", survivorRequests);
    figures.put("survivorErrors", survivorErrors);
    figures.put("survivorErrorsAfterKill", survivorErrorsAfterKill);
    figures.put("survivorErrorRate", survivorRequests == 0 ? 0 : (double) survivorErrors / survivorRequests);
    figures.put("survivorErrorStatuses", statuses);
    figures.put("slowestSurvivorRequestMs", slowestSurvivorMs);
    figures.put("killedNodeRequests", victimRequests);
    figures.put("killedNodeRequestsLost", victimFailed);
    figures.put("survivorsForwardedByOutcome", forwarded);
    figures.put("survivorsHandedOverRequests", handedOver);
    System.out.printf("node loss under load: %d requests at concurrency %d in %d ms; survivors %d requests, %d errors "
            + "%s (slowest %d ms); killed node %d requests, %d lost; survivors' hand-overs %s, taken over %.0f%n",
        all.size(), CONCURRENCY, loadMs, survivorRequests, survivorErrors, statuses, slowestSurvivorMs,
        victimRequests, victimFailed, forwarded, handedOver);

    assertThat(all).hasSize(LOAD_REQUESTS);
    assertThat(forwarded.getOrDefault("answered", 0.0)).as("work crossed between nodes").isPositive();
    assertThat(survivorErrors * 100).as("survivors' errors (< 1 %%): %s", statuses).isLessThan(survivorRequests);
  }

  @AfterAll
  void stopAndReport() throws Exception {
    killAll();
    figures.put("clusterName", runName);
    String json = new JsonObject(figures).encodePrettily();
    Files.writeString(Path.of("target", "cluster-figures.json"), json + "\n", StandardCharsets.UTF_8);
    System.out.println("cluster figures (target/cluster-figures.json): " + json);
    if (vertx != null) {
      TestServers.await(vertx.close());
    }
  }

  private void killAll() {
    ClusterNode.killAll(nodes);
  }

  private void awaitMembers(ClusterNode node, int members) throws InterruptedException {
    nodeClient.awaitMembers(node, members);
  }

  private Future<HttpResponse<Buffer>> classify(ClusterNode node, Buffer image) {
    return nodeClient.classify(node, image);
  }

  private NodeClient.Answer get(ClusterNode node, String path) {
    return nodeClient.get(node, path);
  }

  private JsonObject poll(ClusterNode node, String path, long timeoutMs, NodeClient.Check check)
      throws InterruptedException {
    return nodeClient.poll(node, path, timeoutMs, check);
  }

  private static boolean isRunning(JsonObject status) {
    String state = status.getString("state", "");
    return !(state.equals("idle") || state.equals("done") || state.equals("failed"));
  }
}
