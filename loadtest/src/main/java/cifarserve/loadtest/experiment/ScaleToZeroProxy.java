package cifarserve.loadtest.experiment;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Plays the OpenFaaS Pro gateway's scale-to-zero, which is not available here, as it is documented:
 * the function starts at zero replicas; a request that arrives at zero starts a replica and is held
 * until the replica's {@code /_/ready} answers 200, then forwarded; after {@code zeroDuration} with no
 * request in flight and none arriving, the replica is removed. Listens on 127.0.0.1 only.
 *
 * <p>Scaling is serialised: a request that arrives while the replica is being removed starts the next
 * one only after the removal has finished, so a late removal cannot take away the replica just started
 * (both address the same container name).
 */
public final class ScaleToZeroProxy extends VerticleBase {
  /** What the proxy scales: start returns the port the new replica listens on. Both may block (worker). */
  public interface Replicas {
    int start() throws Exception;

    void remove() throws Exception;
  }

  /** One scale-from-zero: when it began, when /_/ready first answered 200 (System.nanoTime). */
  public record ColdStart(long startedNanos, long readyNanos) {
    public double seconds() {
      return (readyNanos - startedNanos) / 1e9;
    }
  }

  private final Replicas replicas;
  private final long zeroDurationMs;
  private final List<ColdStart> coldStarts = new CopyOnWriteArrayList<>();
  private final List<Long> scaleDowns = new CopyOnWriteArrayList<>();
  private HttpServer server;
  private HttpClient client;
  private Future<Integer> replica;  // null at zero replicas
  private Future<Void> removal = Future.succeededFuture();  // the last scale-down, done or running
  private int inFlight;
  private long lastActivity;
  private volatile boolean atZero = true;

  public ScaleToZeroProxy(Replicas replicas, long zeroDurationMs) {
    this.replicas = replicas;
    this.zeroDurationMs = zeroDurationMs;
  }

  @Override
  public Future<?> start() {
    client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true), new PoolOptions().setHttp1MaxSize(64));
    vertx.setPeriodic(Math.max(10, Math.min(500, zeroDurationMs / 4)), id -> scaleDownIfIdle());
    server = vertx.createHttpServer().requestHandler(this::handle);
    return server.listen(0, "127.0.0.1");
  }

  public int port() {
    return server.actualPort();
  }

  public List<ColdStart> coldStarts() {
    return List.copyOf(coldStarts);
  }

  public List<Long> scaleDownNanos() {
    return List.copyOf(scaleDowns);
  }

  public boolean atZero() {
    return atZero;
  }

  private void handle(HttpServerRequest request) {
    inFlight++;
    lastActivity = System.nanoTime();
    request.pause();
    Future<Integer> target = replica != null ? replica : scaleUp();
    target.compose(port -> request.resume().body().compose(body -> forward(request, port, body)))
        .onComplete(done -> {
          inFlight--;
          lastActivity = System.nanoTime();
          if (done.failed() && !request.response().headWritten()) {
            request.response().setStatusCode(502).putHeader("content-type", "application/json")
                .end("{\"error\":\"scale-to-zero proxy: " + String.valueOf(done.cause().getMessage()).replace('"', '\'') + "\"}");
          }
        });
  }

  private Future<Void> forward(HttpServerRequest in, int port, Buffer body) {
    RequestOptions options = new RequestOptions().setMethod(in.method()).setHost("127.0.0.1").setPort(port)
        .setURI(in.uri()).setHeaders(in.headers()).setTimeout(300_000);
    return client.request(options).compose(out -> out.send(body)).compose(answer -> answer.body().compose(bytes -> {
      in.response().setStatusCode(answer.statusCode()).headers().setAll(answer.headers());
      return in.response().end(bytes);
    }));
  }

  private Future<Integer> scaleUp() {
    long began = System.nanoTime();
    atZero = false;
    Future<Integer> up = removal.transform(removed -> vertx.executeBlocking(replicas::start, false))
        .compose(port -> awaitReady(port, began + 300_000_000_000L).map(v -> {
          coldStarts.add(new ColdStart(began, System.nanoTime()));
          return port;
        }));
    replica = up;
    up.onFailure(e -> {
      replica = null;
      atZero = true;
    });
    return up;
  }

  /** Polls /_/ready every 50 ms as the gateway does before it forwards a held request. */
  private Future<Void> awaitReady(int port, long deadlineNanos) {
    Promise<Void> ready = Promise.promise();
    poll(port, deadlineNanos, ready);
    return ready.future();
  }

  private void poll(int port, long deadlineNanos, Promise<Void> ready) {
    client.request(HttpMethod.GET, port, "127.0.0.1", "/_/ready")
        .compose(r -> r.send().compose(answer -> answer.body().map(b -> answer.statusCode())))
        .onComplete(status -> {
          if (status.succeeded() && status.result() == 200) {
            ready.complete();
          } else if (System.nanoTime() > deadlineNanos) {
            ready.fail("replica never answered /_/ready 200");
          } else {
            vertx.setTimer(50, id -> poll(port, deadlineNanos, ready));
          }
        });
  }

  private void scaleDownIfIdle() {
    if (replica == null || !replica.succeeded() || inFlight > 0
        || System.nanoTime() - lastActivity < zeroDurationMs * 1_000_000L) {
      return;
    }
    replica = null;
    scaleDowns.add(System.nanoTime());
    removal = vertx.executeBlocking(() -> {
      replicas.remove();
      return null;
    }, false);
    removal.onComplete(done -> atZero = replica == null);
  }

  @Override
  public Future<?> stop() {
    return server.close();
  }
}
