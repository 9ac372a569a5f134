package cifarserve.loadtest;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real HTTP server on 127.0.0.1 with known, injected behaviour, for the load generator's tests:
 * <ul>
 *   <li>{@code /ok} 200 "ok"; {@code /delay?ms=N} answers after N ms;</li>
 *   <li>{@code /every?n=N&code=C} status C for every N-th request, else 200;</li>
 *   <li>{@code /alternate?fast=F&slow=S&n=N} every N-th request takes S ms, the others F ms;</li>
 *   <li>{@code /vary} a body of varying length; {@code /stall-once?after=N&ms=M} the N-th request waits M ms;</li>
 *   <li>{@code /inspect} remembers the request's method, content type, X-Probe header and body length;</li>
 *   <li>{@code /classify} answers {"index": first body byte}; {@code /metrics} fixed Prometheus text;</li>
 *   <li>{@code /chunked?parts=N} N chunks of "abc" (no content length); {@code /close} 200 "bye" with
 *       {@code Connection: close}; {@code /hang-up} closes the connection without an answer.</li>
 * </ul>
 * Counters are per path and only touched on the server's event loop.
 */
final class TestTargetServer implements AutoCloseable {
  static final String METRICS = """
      # HELP process_cpu_usage The "recent cpu usage" for the Java Virtual Machine process
      # TYPE process_cpu_usage gauge
      process_cpu_usage 0.25
      system_cpu_count 2.0
      jvm_memory_used_bytes{area="heap",id="G1 Eden Space"} 1.048576E7
      jvm_memory_used_bytes{area="heap",id="G1 Old Gen"} 2.097152E7
      jvm_memory_used_bytes{area="nonheap",id="Metaspace"} 5.0E7
      """;

  private final Vertx vertx;
  private final HttpServer server;
  final AtomicLong received = new AtomicLong();
  /** TCP connections accepted so far. */
  final AtomicLong connections = new AtomicLong();
  /** What the last {@code /inspect} request looked like: "METHOD|content-type|X-Probe|body length". */
  volatile String lastInspected;
  private long everyCounter;
  private long alternateCounter;
  private long stallCounter;
  private long varyCounter;

  TestTargetServer() throws Exception {
    vertx = Vertx.vertx();
    server = vertx.createHttpServer().requestHandler(this::handle)
        .connectionHandler(c -> connections.incrementAndGet());
    server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  String url(String pathAndQuery) {
    return "http://127.0.0.1:" + server.actualPort() + pathAndQuery;
  }

  private void handle(HttpServerRequest request) {
    received.incrementAndGet();
    String path = request.path();
    switch (path) {
      case "/delay" -> vertx.setTimer(Math.max(1, param(request, "ms", 1)), id -> request.response().end("late"));
      case "/every" -> {
        long n = ++everyCounter;
        request.response().setStatusCode(n % param(request, "n", 2) == 0 ? (int) param(request, "code", 500) : 200)
            .end("x");
      }
      case "/alternate" -> {
        long n = ++alternateCounter;
        long ms = n % param(request, "n", 4) == 0 ? param(request, "slow", 50) : param(request, "fast", 5);
        vertx.setTimer(Math.max(1, ms), id -> request.response().end("y"));
      }
      case "/vary" -> request.response().end("z".repeat((int) (++varyCounter % 97) + 1));
      case "/stall-once" -> {
        long n = ++stallCounter;
        if (n == param(request, "after", 10)) {
          vertx.setTimer(param(request, "ms", 1000), id -> request.response().end("stalled"));
        } else {
          request.response().end("s");
        }
      }
      case "/classify" -> request.body().onSuccess(body -> request.response()
          .putHeader("content-type", "application/json")
          .end("{\"label\":\"x\",\"index\":" + (body.length() == 0 ? -1 : body.getByte(0) & 0xff)
              + ",\"probabilities\":{},\"modelVersion\":\"test\"}"));
      case "/inspect" -> request.body().onSuccess(body -> {
        lastInspected = request.method().name() + "|" + request.getHeader("content-type") + "|"
            + request.getHeader("X-Probe") + "|" + body.length();
        request.response().end("seen");
      });
      case "/chunked" -> {
        request.response().setChunked(true);
        for (long i = 0; i < param(request, "parts", 3); i++) {
          request.response().write("abc");
        }
        request.response().end();
      }
      case "/close" -> request.response().putHeader("connection", "close").end("bye");
      case "/hang-up" -> request.connection().close();
      case "/metrics" -> request.response().putHeader("content-type", "text/plain").end(METRICS);
      default -> request.response().end(Buffer.buffer("ok"));
    }
  }

  private static long param(HttpServerRequest request, String name, long fallback) {
    String v = request.getParam(name);
    return v == null ? fallback : Long.parseLong(v);
  }

  @Override
  public void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }
}
