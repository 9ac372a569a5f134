package cifarserve.http;

import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;

/**
 * Guards admin endpoints (training, cancel, model management) with a bearer token read once from
 * the file {@code admin.tokenFile} (env {@code ADMIN_TOKEN_FILE}). No configured token, or function
 * mode, means the endpoints do not exist (404): an unconfigured node offers no admin surface at all.
 * A missing or wrong token gets 401 (the endpoint exists on this node; say so only to whoever is
 * talking to it, which on EC2 is never the internet, see ec2/README.md). Tokens are compared in
 * constant time so response timing does not leak how much of a guess was right.
 */
final class AdminAuth implements Handler<RoutingContext> {
  /** Shorter tokens are refused at start-up: they could be guessed. */
  static final int MIN_TOKEN_LENGTH = 16;

  private final byte[] token;

  private AdminAuth(byte[] token) {
    this.token = token;
  }

  static AdminAuth from(JsonObject config) {
    if ("function".equals(config.getString("mode"))) {
      return new AdminAuth(null);
    }
    String file = config.getJsonObject("admin", new JsonObject()).getString("tokenFile");
    if (file == null || file.isBlank()) {
      return new AdminAuth(null);
    }
    try {
      String value = Files.readString(Path.of(file), StandardCharsets.UTF_8).trim();
      if (value.length() < MIN_TOKEN_LENGTH) {
        throw new IllegalArgumentException("the admin token in admin.tokenFile must have at least "
            + MIN_TOKEN_LENGTH + " characters");
      }
      return new AdminAuth(value.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read admin.tokenFile", e);
    }
  }

  boolean enabled() {
    return token != null;
  }

  @Override
  public void handle(RoutingContext ctx) {
    if (token == null) {
      ctx.fail(404);
      return;
    }
    String header = ctx.request().getHeader("Authorization");
    byte[] presented = header != null && header.startsWith("Bearer ")
        ? header.substring("Bearer ".length()).trim().getBytes(StandardCharsets.UTF_8) : new byte[0];
    if (!MessageDigest.isEqual(token, presented)) {
      ctx.response().putHeader("WWW-Authenticate", "Bearer");
      ctx.fail(new ApiError(401, "admin endpoint: missing or wrong bearer token"));
      return;
    }
    ctx.next();
  }
}
