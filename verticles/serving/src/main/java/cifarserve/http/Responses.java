package cifarserve.http;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Every JSON answer and JSON error of the API, written once (a response already ended is left alone). */
final class Responses {
  private static final Logger LOG = LoggerFactory.getLogger(Responses.class);
  private static final String JSON = "application/json";

  private Responses() {
  }

  static void error(RoutingContext ctx, int status, String message) {
    if (ctx.response().ended()) {
      return;
    }
    if (status == 503 || status == 429) {
      ctx.response().putHeader(HttpHeaders.RETRY_AFTER, "1");
    }
    json(ctx, status, new JsonObject().put("error", message).put("requestId", RequestIds.of(ctx)));
  }

  static void json(RoutingContext ctx, int status, JsonObject body) {
    if (ctx.response().ended() || ctx.response().closed()) {
      return;
    }
    ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, JSON).end(body.encode());
  }

  /** The failure handler of every route: one JSON error with the request id, never an internal detail. */
  static void failure(RoutingContext ctx, long maxBodyBytes) {
    Throwable failure = ctx.failure();
    int status = ctx.statusCode();
    String message;
    if (failure instanceof ApiError api) {
      status = api.status();
      message = api.getMessage();
      if (api.getCause() != null) {
        LOG.error("Request {} failed on {} {}", RequestIds.of(ctx), ctx.request().method(), ctx.request().path(), api.getCause());
      }
    } else if (failure instanceof HttpException http) {
      status = http.getStatusCode();
      message = http.getPayload() != null ? http.getPayload() : http.getMessage();
    } else if (failure instanceof io.vertx.core.http.HttpClosedException) {
      return; // the client hung up mid-request (e.g. mid-body): nobody is left to answer, not a server fault
    } else if (failure != null) {
      LOG.error("Request {} failed unexpectedly on {} {}", RequestIds.of(ctx), ctx.request().method(),
          ctx.request().path(), failure);
      status = 500;
      message = "internal error";
    } else {
      message = switch (status) {
        case 404 -> "no such endpoint: " + ctx.request().method() + " " + ctx.request().path();
        case 405 -> "method not allowed";
        case 413 -> "body larger than the limit";
        default -> "request failed";
      };
    }
    if (status < 400) {
      status = 500;
    }
    if (status == 413 && !(failure instanceof ApiError)) { // an ApiError's 413 says why itself (a batch too large)
      message = "body larger than the limit of " + maxBodyBytes + " bytes";
    }
    Responses.error(ctx, status, message);
  }
}
