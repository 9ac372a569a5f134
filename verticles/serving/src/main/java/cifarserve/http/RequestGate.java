package cifarserve.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.RoutingContext;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Admission and draining state of the HTTP side: requests in flight against {@code max_inflight}
 * (429 beyond it), open requests and the time of the last request start or end (draining waits for a
 * quiet spell), and whether the server drains (every answer then asks for the connection to close).
 */
final class RequestGate {
  private final AtomicInteger inflight = new AtomicInteger();
  private final AtomicInteger openRequests = new AtomicInteger();
  private volatile long lastRequestActivity = System.nanoTime();
  private volatile boolean draining;
  private int maxInflight;

  void maxInflight(int limit) {
    maxInflight = limit;
  }

  int maxInflight() {
    return maxInflight;
  }

  /** Every slot is taken: the next request would get 429. */
  boolean full() {
    return maxInflight > 0 && inflight.get() >= maxInflight;
  }

  boolean draining() {
    return draining;
  }

  /** True the first time only. */
  boolean startDraining() {
    if (draining) {
      return false;
    }
    draining = true;
    lastRequestActivity = System.nanoTime();
    return true;
  }

  /** No request open and none started or ended for {@code nanos}. */
  boolean quietFor(long nanos) {
    return openRequests.get() == 0 && System.nanoTime() - lastRequestActivity >= nanos;
  }

  /** Counts every open request (draining waits for them); while draining, asks clients not to reuse the connection. */
  void track(RoutingContext ctx) {
    openRequests.incrementAndGet();
    lastRequestActivity = System.nanoTime();
    onEndOnce(ctx, () -> lastRequestActivity = System.nanoTime(), openRequests);
    if (draining) {
      ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
    }
    ctx.next();
  }

  /** Counts the request in flight (for max_inflight) until its response ends. */
  void admit(RoutingContext ctx) {
    if (full()) {
      Responses.error(ctx, 429, "max_inflight (" + maxInflight + ") requests already in flight");
      return;
    }
    inflight.incrementAndGet();
    onEndOnce(ctx, () -> { }, inflight);
    ctx.next();
  }

  /**
   * At the request's end: {@code everyEnd}, then {@code counter} counted down once only. A response
   * ended early (408) whose connection then closes reports its end twice, and each extra decrement
   * would raise a limit for good.
   */
  private static void onEndOnce(RoutingContext ctx, Runnable everyEnd, AtomicInteger counter) {
    AtomicBoolean counted = new AtomicBoolean();
    ctx.addEndHandler(v -> {
      everyEnd.run();
      if (counted.compareAndSet(false, true)) {
        counter.decrementAndGet();
      }
    });
  }
}
