package cifarserve.http;

import static org.assertj.core.api.Assertions.assertThat;

import cifarserve.TestServers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Tag;

/** Decodes are bounded: beyond threads + backlog a request fails at once with 503 instead of queueing. */
@Tag("unit")
class DecodePoolTest {
  @Test
  void rejectsBeyondThreadsPlusBacklogAndRecovers() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      DecodePool pool = new DecodePool(vertx, 1, 1);
      CountDownLatch release = new CountDownLatch(1);
      Future<Integer> running = pool.submit(() -> {
        release.await();
        return 1;
      });
      Future<Integer> waiting = pool.submit(() -> 2);
      Future<Integer> rejected = pool.submit(() -> 3);
      assertThat(rejected.failed()).isTrue();
      assertThat(((ApiError) rejected.cause()).status()).isEqualTo(503);
      assertThat(pool.pending()).isEqualTo(2);

      release.countDown();
      assertThat(TestServers.await(running)).isEqualTo(1);
      assertThat(TestServers.await(waiting)).isEqualTo(2);
      assertThat(TestServers.await(pool.submit(() -> 4))).isEqualTo(4);
      assertThat(pool.pending()).isZero();
    } finally {
      TestServers.await(vertx.close());
    }
  }
}
