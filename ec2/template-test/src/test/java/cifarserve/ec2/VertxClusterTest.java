package cifarserve.ec2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.Config;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.shareddata.AsyncMap;
import io.vertx.core.shareddata.Lock;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * conf/cluster-local.xml under vertx-hazelcast 5.0.10, the way the service uses it: two clustered Vert.x nodes on
 * 127.0.0.1 (in one JVM; the service's own tests use separate processes) exchange event-bus requests, share the
 * trainer lock and the model map, and the lock passes on when its holder leaves.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class VertxClusterTest {

  private final List<Vertx> nodes = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (Vertx node : nodes) {
      try {
        await(node.close());
      } catch (ExecutionException ignored) {
        // already closed
      }
    }
  }

  @Test
  void eventBusLockAndModelMapSpanTwoNodes() throws Exception {
    String cluster = "cifar-serve-vertx-test-" + UUID.randomUUID();
    long start = System.nanoTime();
    Vertx a = node(cluster);
    Vertx b = node(cluster);
    System.out.printf("two clustered Vert.x nodes up in %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));

    // Event bus: a request from B reaches A's consumer over TCP and the reply comes back.
    MessageConsumer<String> consumer = a.eventBus().consumer("cifar.test.ping", m -> m.reply("pong:" + m.body()));
    await(consumer.completion());
    awaitUntil(() -> tryRequest(b, "x"), "B sees A's consumer");
    assertEquals("pong:hello", await(b.eventBus().<String>request("cifar.test.ping", "hello")).body());

    // The trainer lock is exclusive across nodes.
    Lock held = await(a.sharedData().getLockWithTimeout("cifar.trainer", 2_000));
    ExecutionException refused =
        assertThrows(ExecutionException.class, () -> await(b.sharedData().getLockWithTimeout("cifar.trainer", 300)));
    assertTrue(String.valueOf(refused.getCause().getMessage()).toLowerCase().contains("timed out"), refused.toString());
    held.release();
    await(b.sharedData().getLockWithTimeout("cifar.trainer", 2_000)); // B holds it from now on

    // The model map: what A writes, B reads.
    byte[] artifact = new byte[1 << 20];
    new Random(7).nextBytes(artifact);
    AsyncMap<String, Buffer> modelsA = await(a.sharedData().getClusterWideMap("cifar.models"));
    await(modelsA.put("current", Buffer.buffer(artifact)));
    AsyncMap<String, Buffer> modelsB = await(b.sharedData().getClusterWideMap("cifar.models"));
    assertEquals(Buffer.buffer(artifact), await(modelsB.get("current")));

    // B leaves while holding the lock: A can take it, and the model is still there.
    await(b.close());
    Lock aHolds = await(a.sharedData().getLockWithTimeout("cifar.trainer", 20_000));
    aHolds.release();
    assertEquals(Buffer.buffer(artifact), await(modelsA.get("current")));
  }

  private Vertx node(String clusterName) throws Exception {
    Config config = HazelcastXmlTest.loadLocalMember();
    config.setClusterName(clusterName);
    VertxOptions options = new VertxOptions()
        .setEventBusOptions(new EventBusOptions().setHost("127.0.0.1").setPort(0));
    Vertx vertx = await(Vertx.builder().with(options).withClusterManager(new HazelcastClusterManager(config)).buildClustered());
    nodes.add(vertx);
    return vertx;
  }

  private static boolean tryRequest(Vertx from, String body) {
    try {
      await(from.eventBus().request("cifar.test.ping", body));
      return true;
    } catch (Exception e) {
      return false;
    }
  }

  private static void awaitUntil(java.util.function.BooleanSupplier condition, String what) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(100);
    }
  }

  /** Blocks the test thread (never an event loop) for a Vert.x future, bounded. */
  static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
