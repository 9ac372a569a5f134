package cifarserve.loadtest.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The proxy against a fake replica that becomes ready 300 ms after it is "started". */
class ScaleToZeroProxyTest {
  private final Vertx vertx = Vertx.vertx();
  private final AtomicInteger starts = new AtomicInteger();
  private final AtomicInteger removals = new AtomicInteger();
  private volatile HttpServer replica;
  private final AtomicLong readyAt = new AtomicLong();
  /** When set, a removal waits for it: a slow `docker rm`. */
  private volatile CountDownLatch removalGate;

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private final ScaleToZeroProxy.Replicas fake = new ScaleToZeroProxy.Replicas() {
    @Override
    public int start() throws Exception {
      starts.incrementAndGet();
      readyAt.set(System.nanoTime() + 300_000_000L);
      replica = vertx.createHttpServer().requestHandler(r -> {
        if (r.path().equals("/_/ready")) {
          r.response().setStatusCode(System.nanoTime() >= readyAt.get() ? 200 : 503).end();
        } else {
          r.body().onSuccess(b -> r.response().end(r.method() + " " + r.path() + " " + b.length()
              + (System.nanoTime() >= readyAt.get() ? " ready" : " NOT-READY")));
        }
      });
      return await(replica.listen(0, "127.0.0.1")).actualPort();
    }

    @Override
    public void remove() throws Exception {
      removals.incrementAndGet();
      if (removalGate != null) {
        removalGate.await(20, TimeUnit.SECONDS);
      }
      await(replica.close());
    }
  };

  private static <T> T await(io.vertx.core.Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  private String call(HttpClient client, int port, HttpMethod method, String body) throws Exception {
    return await(client.request(method, port, "127.0.0.1", "/v1/classify")
        .compose(r -> r.send(Buffer.buffer(body)))
        .compose(a -> a.body().map(b -> a.statusCode() + " " + b)));
  }

  @Test
  void startsAtZeroHoldsUntilReadyForwardsAndScalesBackToZero() throws Exception {
    // zero-duration well above the gap between the held answers and the warm request, which a loaded
    // CI host can stretch to a second
    ScaleToZeroProxy proxy = new ScaleToZeroProxy(fake, 3000);
    await(vertx.deployVerticle(proxy));
    HttpClient client = vertx.createHttpClient();
    assertThat(proxy.atZero()).isTrue();
    assertThat(starts.get()).isZero();

    // two requests at zero: one start, both held until ready, both forwarded with their bodies
    var first = client.request(HttpMethod.POST, proxy.port(), "127.0.0.1", "/v1/classify")
        .compose(r -> r.send(Buffer.buffer("abc"))).compose(a -> a.body().map(b -> a.statusCode() + " " + b));
    String second = call(client, proxy.port(), HttpMethod.POST, "abcdef");
    assertThat(await(first)).isEqualTo("200 POST /v1/classify 3 ready");
    assertThat(second).isEqualTo("200 POST /v1/classify 6 ready");
    assertThat(starts.get()).isEqualTo(1);
    assertThat(proxy.coldStarts()).hasSize(1);
    assertThat(proxy.coldStarts().get(0).seconds()).isGreaterThanOrEqualTo(0.3);

    // warm: no new start
    assertThat(call(client, proxy.port(), HttpMethod.GET, "")).startsWith("200 GET /v1/classify 0");
    assertThat(starts.get()).isEqualTo(1);

    // after zero-duration without traffic the replica is removed
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> removals.get() > 0 && proxy.atZero());
    assertThat(removals.get()).isEqualTo(1);

    // the next request is a cold start again
    assertThat(call(client, proxy.port(), HttpMethod.POST, "x")).isEqualTo("200 POST /v1/classify 1 ready");
    assertThat(starts.get()).isEqualTo(2);
    assertThat(proxy.coldStarts()).hasSize(2);
  }

  @Test
  void aRequestArrivingDuringTheRemovalStartsAReplicaTheRemovalDoesNotTakeAway() throws Exception {
    ScaleToZeroProxy proxy = new ScaleToZeroProxy(fake, 200);
    await(vertx.deployVerticle(proxy));
    HttpClient client = vertx.createHttpClient();
    assertThat(call(client, proxy.port(), HttpMethod.POST, "ab")).isEqualTo("200 POST /v1/classify 2 ready");

    removalGate = new CountDownLatch(1);
    Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> removals.get() == 1);
    // the removal is under way (blocked); a request now needs a new replica, started after it
    var during = client.request(HttpMethod.POST, proxy.port(), "127.0.0.1", "/v1/classify")
        .compose(r -> r.send(Buffer.buffer("abc"))).compose(a -> a.body().map(b -> a.statusCode() + " " + b));
    Thread.sleep(100); // let the request reach the proxy while the removal still blocks
    assertThat(starts.get()).isEqualTo(1);
    removalGate.countDown();
    assertThat(await(during)).isEqualTo("200 POST /v1/classify 3 ready");
    assertThat(starts.get()).isEqualTo(2);
    assertThat(proxy.atZero()).isFalse();
  }

  @Test
  void aReplicaThatCannotStartGetsA502NotAHang() throws Exception {
    ScaleToZeroProxy proxy = new ScaleToZeroProxy(new ScaleToZeroProxy.Replicas() {
      @Override
      public int start() {
        throw new IllegalStateException("no image");
      }

      @Override
      public void remove() {
      }
    }, 1000);
    await(vertx.deployVerticle(proxy));
    String answer = call(vertx.createHttpClient(), proxy.port(), HttpMethod.GET, "");
    assertThat(answer).startsWith("502 ").contains("no image");
    assertThat(proxy.atZero()).isTrue();
  }
}
