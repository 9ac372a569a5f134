package cifarserve.http;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * Answers 408 and closes the connection when a request body has not arrived in full within a bound.
 * The idle timeout alone does not catch a body trickled a byte at a time: it would hold the connection,
 * its buffered bytes and an in-flight slot forever. Once the body is in, the inference timeout applies.
 */
final class BodyReadDeadline implements Handler<RoutingContext> {
  private final Vertx vertx;
  private final long timeoutMs;

  BodyReadDeadline(Vertx vertx, long timeoutMs) {
    this.vertx = vertx;
    this.timeoutMs = timeoutMs;
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (timeoutMs <= 0 || ctx.request().isEnded()) {
      ctx.next();
      return;
    }
    long timer = vertx.setTimer(timeoutMs, id -> {
      if (ctx.request().isEnded() || ctx.response().ended() || ctx.response().closed()) {
        return;
      }
      ctx.response().setStatusCode(408).putHeader(HttpHeaders.CONTENT_TYPE, "application/json")
          .putHeader(HttpHeaders.CONNECTION, "close")
          .end(new JsonObject().put("error", "request body not received within " + timeoutMs + " ms").encode())
          .onComplete(done -> ctx.request().connection().close());
    });
    ctx.addEndHandler(done -> vertx.cancelTimer(timer));
    ctx.next();
  }
}
