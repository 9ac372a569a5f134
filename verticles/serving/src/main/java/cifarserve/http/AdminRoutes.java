package cifarserve.http;

import cifarserve.Addresses;
import cifarserve.training.TrainingRequest;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The admin endpoints: {@code POST /train} (start a run) and {@code POST /train/cancel}. Both sit
 * behind {@link AdminAuth}; the token is checked before the body is even read. Options are
 * validated here ({@link TrainingRequest}) so a bad field is a 400 naming it, never a run.
 */
final class AdminRoutes {
  /** Training options are a few fields; anything larger is not a training request. */
  private static final long MAX_BODY_BYTES = 4096;

  private AdminRoutes() {
  }

  static void mount(Router router, Vertx vertx, JsonObject config) {
    AdminAuth auth = AdminAuth.from(config);
    JsonObject defaults = config.getJsonObject("training", new JsonObject());
    BodyHandler body = BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES);
    router.post("/train/cancel").handler(auth).handler(ctx ->
        vertx.eventBus().<JsonObject>request(Addresses.TRAINING_CANCEL, null)
            .onSuccess(reply -> json(ctx, 200, reply.body()))
            .onFailure(e -> ctx.fail(new ApiError(503, "training is not available on this node"))));
    // Separate routes: Vert.x wants a body handler first on its route; the token is still checked first.
    router.post("/train").handler(auth);
    router.post("/train").handler(body).handler(ctx -> start(ctx, vertx, defaults));
  }

  private static void start(RoutingContext ctx, Vertx vertx, JsonObject defaults) {
    JsonObject options;
    try {
      Buffer body = ctx.body().buffer();
      options = body == null || body.length() == 0 ? new JsonObject() : new JsonObject(body);
    } catch (RuntimeException e) {
      ctx.fail(new ApiError(400, "body must be a JSON object of training options"));
      return;
    }
    try {
      TrainingRequest.validate(options, defaults);
    } catch (TrainingRequest.InvalidOption e) {
      json(ctx, 400, new JsonObject().put("error", e.getMessage()).put("field", e.field()));
      return;
    }
    vertx.eventBus().<JsonObject>request(Addresses.TRAINING_START, options)
        .onSuccess(reply -> json(ctx, 202, reply.body()))
        .onFailure(e -> ctx.fail(e instanceof io.vertx.core.eventbus.ReplyException reply && reply.failureCode() == 409
            ? new ApiError(409, "a training run is already in progress")
            : new ApiError(503, "training is not available on this node")));
  }

  private static void json(RoutingContext ctx, int status, JsonObject body) {
    if (!ctx.response().ended()) {
      ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(body.encode());
    }
  }
}
