package cifarserve.http;

import io.vertx.ext.web.RoutingContext;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Gives every request an id, sent back in {@code X-Request-Id} and in every error body, and written
 * to the log next to the details of a failure. Clients then get a stable, generic message and a
 * handle to quote; exception text and server paths stay in the log. The id is ours, never taken
 * from the client, so a log line cannot be forged or confused by a chosen id.
 */
final class RequestIds {
  static final String HEADER = "X-Request-Id";
  private static final String KEY = "requestId";
  private static final SecureRandom RANDOM = new SecureRandom();

  private RequestIds() {
  }

  static void assign(RoutingContext ctx) {
    byte[] bytes = new byte[8];
    RANDOM.nextBytes(bytes);
    String id = HexFormat.of().formatHex(bytes);
    ctx.put(KEY, id);
    ctx.response().putHeader(HEADER, id);
    ctx.next();
  }

  /** The request's id ("-" if it failed before one was assigned). */
  static String of(RoutingContext ctx) {
    String id = ctx.get(KEY);
    return id == null ? "-" : id;
  }
}
