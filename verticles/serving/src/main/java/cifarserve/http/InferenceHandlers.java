package cifarserve.http;

import cifarserve.Addresses;
import cifarserve.data.CifarClasses;
import cifarserve.inference.Batcher;
import cifarserve.inference.ImageBatch;
import cifarserve.inference.LocalCodec;
import cifarserve.inference.Predictions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The classify endpoints: the body is decoded (a raw record in place, images and JSON on the bounded
 * {@link DecodePool}), sent to this node's inference verticle, and the answer written as JSON.
 */
final class InferenceHandlers {
  private final Vertx vertx;
  private final DecodePool decodePool;
  private final long inferenceTimeoutMs;
  private final long maxImagePixels;
  private final int maxQueuedImages;
  private final BooleanSupplier modelLoaded;

  InferenceHandlers(Vertx vertx, DecodePool decodePool, long inferenceTimeoutMs, long maxImagePixels,
      int maxQueuedImages, BooleanSupplier modelLoaded) {
    this.vertx = vertx;
    this.decodePool = decodePool;
    this.inferenceTimeoutMs = inferenceTimeoutMs;
    this.maxImagePixels = maxImagePixels;
    this.maxQueuedImages = maxQueuedImages;
    this.modelLoaded = modelLoaded;
  }

  /** POST /v1/classify. */
  void classify(RoutingContext ctx) {
    long received = System.nanoTime();
    String contentType = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
    Buffer body = ctx.body().buffer();
    Callable<ImageBatch> decode = () -> InferenceRequests.classifyBody(contentType, body, maxImagePixels);
    // A raw record is copied here (~1 µs); the hop to a worker and back would cost two thread wake-ups.
    (InferenceRequests.isRawRecord(contentType) ? decodeHere(decode) : decodeOffLoop(decode))
        .compose(images -> predict(images, received))
        .onSuccess(result -> {
          float[] probabilities = result.rows()[0];
          int index = Predictions.argMax(probabilities);
          Responses.json(ctx, 200, new JsonObject()
              .put("label", CifarClasses.name(index))
              .put("index", index)
              .put("probabilities", Predictions.probabilitiesJson(probabilities))
              .put("modelVersion", result.version()));
        })
        .onFailure(ctx::fail);
  }

  /** POST /v2/models/cifar10-cnn/infer (Open Inference Protocol v2). */
  void infer(RoutingContext ctx) {
    long received = System.nanoTime();
    Buffer body = ctx.body().buffer();
    decodeOffLoop(() -> InferenceRequests.openInferenceBody(body, maxQueuedImages))
        .compose(request -> predict(request.images(), received).map(result -> new IdentifiedPrediction(request, result)))
        .onSuccess(identified -> {
          String id = identified.request().id();
          Prediction result = identified.prediction();
          JsonArray probabilities = new JsonArray();
          JsonArray labels = new JsonArray();
          for (float[] row : result.rows()) {
            for (float p : row) {
              probabilities.add((double) p);
            }
            labels.add(CifarClasses.name(Predictions.argMax(row)));
          }
          int n = result.rows().length;
          JsonArray outputs = new JsonArray();
          for (String name : identified.request().outputs()) {
            outputs.add("label".equals(name)
                ? new JsonObject().put("name", "label").put("datatype", "BYTES")
                    .put("shape", new JsonArray().add(n)).put("data", labels)
                : new JsonObject().put("name", "probabilities").put("datatype", "FP32")
                    .put("shape", new JsonArray().add(n).add(CifarClasses.COUNT)).put("data", probabilities));
          }
          JsonObject response = new JsonObject()
              .put("model_name", HttpVerticle.MODEL_NAME)
              .put("model_version", result.version())
              .put("id", id != null ? id : UUID.randomUUID().toString())
              .put("outputs", outputs);
          Responses.json(ctx, 200, response);
        })
        .onFailure(ctx::fail);
  }

  private record Prediction(String version, float[][] rows) {
  }

  private record IdentifiedPrediction(InferenceRequests.OpenInferenceRequest request, Prediction prediction) {
  }

  /**
   * The inference timeout runs from {@code receivedNanos}, when the body had arrived: time spent waiting
   * for a decoder counts, so an answer never comes later than the timeout after that (overload included).
   */
  private Future<Prediction> predict(ImageBatch images, long receivedNanos) {
    if (!modelLoaded.getAsBoolean()) {
      return Future.failedFuture(new ApiError(503, "no model is loaded yet"));
    }
    long remainingMs = inferenceTimeoutMs - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - receivedNanos);
    if (remainingMs <= 0) {
      return Future.failedFuture(new ApiError(503, "server busy: the request waited past its " + inferenceTimeoutMs
          + " ms deadline before inference"));
    }
    // Always to this node's inference verticle, which hands the request to the cluster when it is busy
    // (cifarserve.cluster.ClusterDispatch); a node that cannot be reached there never sees it.
    // The images go as they are (LocalCodec): nothing is serialized unless the request spills.
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(remainingMs).setLocalOnly(true)
        .setCodecName(LocalCodec.IMAGES.name()).addHeader(Addresses.DEADLINE_MS_HEADER, Long.toString(remainingMs));
    return vertx.eventBus().<Batcher.Result>request(Addresses.INFER, images, options)
        .map(reply -> new Prediction(reply.body().version(), reply.body().probabilities()))
        .recover(e -> Future.failedFuture(toApiError(e)));
  }

  private static ApiError toApiError(Throwable e) {
    if (e instanceof ReplyException reply) {
      if (reply.failureType() == ReplyFailure.TIMEOUT) {
        return new ApiError(504, "inference timed out");
      }
      if (reply.failureType() == ReplyFailure.NO_HANDLERS) {
        return new ApiError(503, "no inference worker available");
      }
      int code = reply.failureCode();
      if (code >= 400 && code < 500 || code == 503 || code == 504) {
        return new ApiError(code, reply.getMessage());
      }
    }
    if (e instanceof ApiError api) {
      return api;
    }
    // Exception text can name server paths or internals: the client gets a generic message, the log the cause.
    return new ApiError(500, "internal error", e);
  }

  private static <T> Future<T> decodeHere(Callable<T> decode) {
    try {
      return Future.succeededFuture(decode.call());
    } catch (Exception e) {
      return Future.failedFuture(e);
    }
  }

  /** Decoding is CPU work proportional to the body: keep it off the event loop, on a bounded pool. */
  private <T> Future<T> decodeOffLoop(Callable<T> decode) {
    return decodePool.submit(decode);
  }
}
