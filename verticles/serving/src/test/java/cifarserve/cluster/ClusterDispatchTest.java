package cifarserve.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import cifarserve.config.ServiceSettings;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The spill rules, on one non-clustered Vert.x: a hop is a request to {@link ClusterDispatch#ADDRESS}. */
@Tag("unit")
class ClusterDispatchTest {
  private static final String OLD = "cnn-20261130T105851Z-9e31";
  private static final String NEW = "cnn-20261201T105851Z-0a0b";

  private final Vertx vertx = Vertx.vertx();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final ClusterDispatch dispatch = new ClusterDispatch(vertx, ServiceSettings.of(new JsonObject()
      .put("cluster", new JsonObject().put("spillQueueImages", 4).put("hopTimeoutMs", 200))).cluster(), registry);

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void aSingleNodeNeverSpills() {
    assertThat(dispatch.enabled()).isFalse();
    assertThat(dispatch.shouldSpill(1_000, 64)).isFalse();
  }

  @Test
  void theHopCarriesTheSendersVersionAndCountsTheAnswer() throws Exception {
    vertx.eventBus().<Buffer>consumer(ClusterDispatch.ADDRESS, message ->
        message.reply(Buffer.buffer(message.headers().get(ClusterDispatch.MIN_VERSION_HEADER))));
    Buffer reply = await(dispatch.forward(Buffer.buffer("images"), NEW, 5_000)).body();
    assertThat(reply.toString()).isEqualTo(NEW);
    assertThat(registry.counter("cifar_cluster_forwarded_total", "outcome", "answered").count()).isEqualTo(1);
  }

  @Test
  void aSilentPeerCostsOneHopTimeoutAndTheRequestRunsLocally() {
    vertx.eventBus().<Buffer>consumer(ClusterDispatch.ADDRESS, message -> { });
    long started = System.nanoTime();
    Throwable failure = failureOf(dispatch.forward(Buffer.buffer("images"), null, 60_000));
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)).as("bounded by hopTimeoutMs").isLessThan(10_000);
    assertThat(((ReplyException) failure).failureType()).isEqualTo(ReplyFailure.TIMEOUT);
    assertThat(ClusterDispatch.runLocallyAfter(failure)).isTrue();
    assertThat(registry.counter("cifar_cluster_forwarded_total", "outcome", "timeout").count()).isEqualTo(1);
  }

  @Test
  void whichFailedHopsRunLocally() {
    assertThat(ClusterDispatch.runLocallyAfter(new ReplyException(ReplyFailure.NO_HANDLERS, "gone"))).isTrue();
    assertThat(ClusterDispatch.runLocallyAfter(new ReplyException(ReplyFailure.ERROR, "connection lost"))).isTrue();
    assertThat(ClusterDispatch.runLocallyAfter(recipient(503))).as("peer full").isTrue();
    assertThat(ClusterDispatch.runLocallyAfter(recipient(ClusterDispatch.OLDER_MODEL))).as("older model").isTrue();
    assertThat(ClusterDispatch.runLocallyAfter(recipient(500))).isTrue();
    assertThat(ClusterDispatch.runLocallyAfter(recipient(400))).as("malformed: would fail here too").isFalse();
  }

  @Test
  void aPeerServesOnlyAModelAtLeastAsNewAsTheSenders() {
    assertThat(ClusterDispatch.acceptsVersion(NEW, OLD)).isTrue();
    assertThat(ClusterDispatch.acceptsVersion(NEW, NEW)).isTrue();
    assertThat(ClusterDispatch.acceptsVersion(OLD, NEW)).isFalse();
    assertThat(ClusterDispatch.acceptsVersion(null, NEW)).isFalse();
    assertThat(ClusterDispatch.acceptsVersion(OLD, null)).as("no requirement").isTrue();
    assertThat(ClusterDispatch.acceptsVersion(NEW, "../../etc/passwd")).as("not a version id").isFalse();
  }

  private static ReplyException recipient(int code) {
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, code, "refused");
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static Throwable failureOf(Future<?> future) {
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, () -> await(future));
    return e.getCause();
  }
}
