package cifarserve.ec2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.cluster.Member;
import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.map.IMap;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Starts real Hazelcast 5.3.8 members from conf/cluster-local.xml on 127.0.0.1 and checks they form one cluster
 * and keep the model map across the loss of a member. The cluster name is made unique per run so that other
 * clusters started from the same file on this host (the service's own tests) are never joined.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class LocalClusterTest {

  private final List<HazelcastInstance> members = new ArrayList<>();

  @AfterEach
  void stopAll() {
    for (HazelcastInstance member : members) {
      if (member.getLifecycleService().isRunning()) {
        member.getLifecycleService().terminate();
      }
    }
  }

  private Config config(String clusterName) throws Exception {
    Config config = HazelcastXmlTest.loadLocalMember();
    config.setClusterName(clusterName);
    return config;
  }

  private HazelcastInstance start(Config config) {
    HazelcastInstance member = Hazelcast.newHazelcastInstance(config);
    members.add(member);
    return member;
  }

  /** Two members from the file under one fresh cluster name, once both see each other. */
  private List<HazelcastInstance> startPair() throws Exception {
    String name = "cifar-serve-test-" + UUID.randomUUID();
    List<HazelcastInstance> pair = List.of(start(config(name)), start(config(name)));
    for (HazelcastInstance member : pair) {
      awaitMembers(member, 2);
    }
    return pair;
  }

  @Test
  void twoMembersFromTheSameFileFormOneClusterOnLoopback() throws Exception {
    List<HazelcastInstance> pair = startPair();
    HazelcastInstance first = pair.get(0);
    HazelcastInstance second = pair.get(1);
    for (HazelcastInstance member : members) {
      for (Member m : member.getCluster().getMembers()) {
        assertEquals("127.0.0.1", m.getAddress().getHost(), "members bind loopback only");
        int port = m.getAddress().getPort();
        assertTrue(port >= 5701 && port <= 5720, "port " + port + " in 5701-5720");
      }
    }

    // Graceful leave: the survivor sees itself alone.
    second.getLifecycleService().shutdown();
    awaitMembers(first, 1);
  }

  @Test
  void theModelMapSurvivesTheAbruptLossOfTheMemberThatWroteIt() throws Exception {
    List<HazelcastInstance> pair = startPair();
    HazelcastInstance writer = pair.get(0);
    HazelcastInstance survivor = pair.get(1);

    byte[] artifact = new byte[256 * 1024];
    new java.util.Random(42).nextBytes(artifact);
    IMap<String, byte[]> models = writer.getMap("cifar.models");
    // 32 keys spread over the partitions: some are owned by the writer and live on the survivor only as
    // backups (the chance that none is, with two members, is 2^-32).
    for (int version = 1; version <= 32; version++) {
      models.put("model-v" + version, artifact);
    }
    assertTrue(hasEntryOwnedBy(writer, models), "some entries must be owned by the member that will die");

    writer.getLifecycleService().terminate(); // no graceful hand-over: like SIGKILL
    awaitMembers(survivor, 1);

    IMap<String, byte[]> survived = survivor.getMap("cifar.models");
    assertEquals(32, survived.size(), "backup-count 1 keeps every entry");
    for (int version = 1; version <= 32; version++) {
      assertArrayEquals(artifact, survived.get("model-v" + version), "model-v" + version);
    }
  }

  @Test
  void aSigkilledMemberInAnotherProcessIsDroppedAtOnce() throws Exception {
    long droppedMs = msUntilDropped(other -> {
      other.destroyForcibly(); // SIGKILL: no goodbye; its connections are refused from now on
      assertTrue(other.waitFor(10, TimeUnit.SECONDS));
    });
    System.out.printf("SIGKILLed member dropped by the survivor after %d ms%n", droppedMs);
    assertTrue(droppedMs < 12_000, "dropped after " + droppedMs + " ms");
  }

  @Test
  void aFrozenMemberIsDroppedAfterTheConfiguredHeartbeatSilence() throws Exception {
    long droppedMs = msUntilDropped(other -> {
      // SIGSTOP: the process keeps its sockets open but says nothing, like a hung host.
      assertEquals(0, new ProcessBuilder("kill", "-STOP", Long.toString(other.pid())).start().waitFor());
    });
    System.out.printf("frozen (SIGSTOP) member dropped by the survivor after %d ms%n", droppedMs);
    // cluster-local.xml: hazelcast.max.no.heartbeat.seconds = 8 (the default, 60 s, would time this test out).
    assertTrue(droppedMs >= 7_000 && droppedMs < 20_000, "dropped after " + droppedMs + " ms");
  }

  interface Disruption {
    void apply(Process member) throws Exception;
  }

  /** Forms a cluster with a member in another JVM, disrupts that process, returns ms until the survivor drops it. */
  private long msUntilDropped(Disruption disruption) throws Exception {
    String name = "cifar-serve-test-" + UUID.randomUUID();
    HazelcastInstance survivor = start(config(name));
    Process other = startMemberProcess(name);
    try {
      awaitMembers(survivor, 2);
      long disruptedAt = System.nanoTime();
      disruption.apply(other);
      awaitMembers(survivor, 1);
      return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - disruptedAt);
    } finally {
      other.destroyForcibly(); // SIGKILL ends a stopped process too
    }
  }

  /** A member from the same file in its own JVM. */
  private static Process startMemberProcess(String clusterName) throws Exception {
    return new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-Drepo.root=" + RepoFiles.root(), "-cp", System.getProperty("java.class.path"),
        MemberMain.class.getName(), clusterName)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.DISCARD)
        .start();
  }

  private static boolean hasEntryOwnedBy(HazelcastInstance member, IMap<String, byte[]> map) {
    Member local = member.getCluster().getLocalMember();
    return map.keySet().stream()
        .anyMatch(key -> member.getPartitionService().getPartition(key).getOwner().equals(local));
  }

  private static void awaitMembers(HazelcastInstance member, int expected) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(45);
    while (member.getCluster().getMembers().size() != expected) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("expected " + expected + " members, have " + member.getCluster().getMembers());
      }
      Thread.sleep(100);
    }
  }
}
