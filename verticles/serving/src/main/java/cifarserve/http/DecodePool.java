package cifarserve.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Decodes request bodies on a few dedicated threads with a bounded backlog: beyond it a request gets 503
 * at once. Why: an image decode can take tens of MB of heap for a moment, so how many run (and wait, holding
 * their bodies) at once must be bounded, not left to Vert.x's 20-thread worker pool and its unbounded queue.
 */
final class DecodePool {
  private final WorkerExecutor executor;
  private final int capacity;
  private final AtomicInteger pending = new AtomicInteger();

  DecodePool(Vertx vertx, int threads, int backlog) {
    this.executor = vertx.createSharedWorkerExecutor("cifar-decode", threads);
    this.capacity = threads + backlog;
  }

  <T> Future<T> submit(Callable<T> decode) {
    if (pending.incrementAndGet() > capacity) {
      pending.decrementAndGet();
      return Future.failedFuture(new ApiError(503, "too many bodies being decoded (" + capacity + "): retry later"));
    }
    return executor.executeBlocking(decode, false).andThen(done -> pending.decrementAndGet());
  }

  int pending() {
    return pending.get();
  }

  Future<Void> close() {
    return executor.close();
  }
}
