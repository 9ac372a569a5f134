package cifarserve.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import cifarserve.Addresses;
import cifarserve.TestData;
import cifarserve.TestServers;
import cifarserve.config.ServiceSettings;
import cifarserve.cli.ServeCommand;
import cifarserve.config.ServiceConfig;
import cifarserve.model.ArtifactSignature;
import cifarserve.model.CifarCnn;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.ext.web.client.WebClient;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The attack of issue 14 on a real cluster: two service processes on 127.0.0.1 (a has the shipped
 * model, b starts empty and gets it from the cluster, signed by a) and a third, hostile member (this
 * JVM, joined with the same Hazelcast config and name, without the secret) that writes forged entries
 * straight into the {@code cifar.models} map and onto the event bus. Every forgery is refused (log +
 * {@code cifar_cluster_models_refused_total{reason}}), no forged byte reaches a node's disk, the
 * Java-serialized value never runs its {@code readObject}, and both nodes keep serving the real model.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ForgedModelClusterTest {
  private static final Path SHIPPED = Path.of("..", "models").toAbsolutePath().normalize();
  private static final String REFUSED = "cifar_cluster_models_refused_total{reason=\"";
  private static final String FORGED = "cnn-20991231T235959Z-ffff";
  private static final byte[] FORGED_ONNX = "not an ONNX graph".getBytes(StandardCharsets.UTF_8);

  private final List<ClusterNode> nodes = new ArrayList<>();
  private Path runDir;
  private Vertx client;
  private NodeClient http;
  private Vertx attacker;
  private ClusterNode a;
  private ClusterNode b;
  private String shippedVersion;

  @BeforeAll
  void startTwoNodesAndAHostileMember() throws Exception {
    String clusterName = "cifar-serve-forged-" + UUID.randomUUID();
    runDir = Files.createDirectories(Path.of("target", "cluster-test", clusterName)).toAbsolutePath();
    Path clusterXml = ClusterNode.patientClusterXml(runDir);
    client = Vertx.vertx();
    http = new NodeClient(WebClient.create(client));
    Runtime.getRuntime().addShutdownHook(new Thread(this::killAll));

    Path aModels = Files.createDirectories(runDir.resolve("a-models"));
    try (Stream<Path> files = Files.list(SHIPPED)) {
      for (Path file : files.filter(p -> p.getFileName().toString().startsWith("cnn-")).toList()) {
        Files.copy(file, aModels.resolve(file.getFileName()));
      }
    }
    Map<String, String> env = Map.of("CLUSTER_MODEL_SYNC_MS", "1000");
    a = ClusterNode.start("a", clusterName, clusterXml, runDir, env);
    nodes.add(a);
    shippedVersion = http.poll(a, "/", 240_000, (status, body) -> status == 200).getString("version");
    b = ClusterNode.start("b", clusterName, clusterXml, runDir, env);
    nodes.add(b);
    assertThat(http.poll(b, "/", 240_000, (status, body) -> status == 200).getString("version"))
        .as("b got a's signed model from the cluster").isEqualTo(shippedVersion);
    assertThat(b.modelDir.resolve(shippedVersion + ".zip")).isRegularFile();

    JsonObject config = ServiceConfig.defaults();
    config.getJsonObject("cluster").put("enabled", true).put("config", clusterXml.toString())
        .put("name", clusterName).put("eventBusHost", "127.0.0.1").put("eventBusPort", 0);
    attacker = TestServers.await(ServeCommand.startVertx(ServiceSettings.of(config)));
    http.awaitMembers(a, 3);
  }

  @Test
  @Timeout(value = 300, unit = TimeUnit.SECONDS)
  void forgedEntriesAreRefusedAndTheRealModelKeepsServing() throws Exception {
    AsyncMap<String, Object> map = TestServers.await(attacker.sharedData().getAsyncMap("cifar.models"));
    JsonObject unsigned = new JsonObject().put("version", FORGED).put("architectureId", CifarCnn.ARCHITECTURE_ID)
        .put("accuracy", 0.99);
    byte[] forgedZip = "not the model".getBytes(StandardCharsets.UTF_8);
    TestServers.await(map.put("artifact:" + FORGED, Buffer.buffer(forgedZip)));
    TestServers.await(map.put("onnx:" + FORGED, Buffer.buffer(FORGED_ONNX)));

    // 1. A version that outranks every real one as a string.
    TestServers.await(map.put("current", unsigned.copy().put("version", "zzz")));
    awaitRefusals("version");

    // 2. No architectureId (the ModelSerializer / Java deserialization path), MAC made up.
    JsonObject noArchitecture = signedWith("made-up-secret-of-at-least-32-characters!", unsigned, forgedZip);
    noArchitecture.remove("architectureId");
    TestServers.await(map.put("current", noArchitecture));
    awaitRefusals("architecture");

    // 3. Well formed, signed with a secret that is not the cluster's.
    TestServers.await(map.put("current", signedWith("made-up-secret-of-at-least-32-characters!", unsigned, forgedZip)));
    awaitRefusals("signature");

    // 4. Signed with the real secret (a leaked metadata, say) but the map holds other bytes.
    JsonObject signedOtherBytes = signedWith(Files.readString(ClusterNode.secretFile(runDir)).trim(),
        unsigned.copy().put("version", "cnn-20991231T235958Z-eeee"), "the signed bytes".getBytes());
    TestServers.await(map.put("artifact:cnn-20991231T235958Z-eeee", Buffer.buffer(forgedZip)));
    TestServers.await(map.put("onnx:cnn-20991231T235958Z-eeee", Buffer.buffer(FORGED_ONNX)));
    TestServers.await(map.put("current", signedOtherBytes));
    awaitRefusals("hash");

    // 5. An announcement straight on the event bus, not signed with the cluster's secret.
    // Published until b counts it: the new member's view of who subscribes where fills in shortly after joining.
    double signatureRefusals = http.metric(b, REFUSED + "signature");
    JsonObject announcement = signedWith("made-up-secret-of-at-least-32-characters!",
        unsigned.copy().put("version", "cnn-20991231T235957Z-dddd"), forgedZip);
    long deadline = System.currentTimeMillis() + 60_000;
    while (http.metric(b, REFUSED + "signature") <= signatureRefusals) {
      assertThat(System.currentTimeMillis()).as("b refused the forged announcement in time").isLessThan(deadline);
      attacker.eventBus().publish(Addresses.MODEL_READY, announcement);
      Thread.sleep(500);
    }

    // 6. A Java-serialized object as the map value: the serialization filter refuses to read it.
    Path marker = runDir.resolve("gadget-ran");
    HazelcastClusterManager manager = (HazelcastClusterManager) ((VertxInternal) attacker).clusterManager();
    manager.getHazelcastInstance().getMap("cifar.models").put("current", new Gadget(marker));
    awaitRefusals("unreadable");
    assertThat(marker).as("no node ran the gadget's readObject").doesNotExist();

    for (ClusterNode node : nodes) {
      assertThat(http.get(node, "/").body().getString("version")).as(node.name).isEqualTo(shippedVersion);
      assertThat(TestServers.await(http.classify(node, Buffer.buffer(TestData.testImages().image(0)))).statusCode())
          .as(node.name + " classifies").isEqualTo(200);
      try (Stream<Path> files = Files.list(node.modelDir)) {
        assertThat(files.map(p -> p.getFileName().toString())).as(node.name + "'s model folder")
            .noneMatch(name -> name.contains("2099") || name.startsWith("zzz"));
      }
    }
    System.out.printf("forged entries refused: b %s%n", Stream.of("version", "architecture", "signature", "hash",
        "unreadable").map(r -> r + "=" + http.metric(b, REFUSED + r)).toList());
  }

  private static JsonObject signedWith(String secret, JsonObject metadata, byte[] zip) throws Exception {
    Path file = Files.createTempFile("forger", ".secret");
    try {
      Files.writeString(file, secret);
      ArtifactSignature signer = ArtifactSignature.from(new JsonObject()
          .put("cluster", new JsonObject().put("secretFile", file.toString())));
      String version = metadata.getString("version");
      return signer.sign(metadata.copy(),
          List.of(new ArtifactSignature.SignedFile(version + ".zip", ArtifactSignature.sha256(zip)),
              new ArtifactSignature.SignedFile(version + ".onnx", ArtifactSignature.sha256(FORGED_ONNX))));
    } finally {
      Files.deleteIfExists(file);
    }
  }

  /** Both nodes logged and counted a refusal with this reason. */
  private void awaitRefusals(String reason) throws InterruptedException {
    for (ClusterNode node : nodes) {
      awaitMetricAbove(node, REFUSED + reason, 0);
    }
  }

  private void awaitMetricAbove(ClusterNode node, String prefix, double floor) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 60_000;
    while (http.metric(node, prefix) <= floor) {
      if (System.currentTimeMillis() > deadline || !node.alive()) {
        throw new AssertionError(node + ": no " + prefix + " above " + floor + "; log tail:\n" + node.logTail());
      }
      Thread.sleep(250);
    }
  }

  @AfterAll
  void stop() throws Exception {
    killAll();
    if (attacker != null) {
      TestServers.await(attacker.close());
    }
    if (client != null) {
      TestServers.await(client.close());
    }
  }

  private void killAll() {
    ClusterNode.killAll(nodes);
  }
}
