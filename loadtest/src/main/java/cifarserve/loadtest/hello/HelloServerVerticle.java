package cifarserve.loadtest.hello;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;

/**
 * The trivial endpoint the wrk comparison runs against: every request gets a 13-byte "Hello, world!",
 * optionally after a fixed delay (a known latency both tools must report). Deploy several instances
 * on the same port to spread connections over event loops.
 */
public final class HelloServerVerticle extends VerticleBase {
  private static final Buffer HELLO = Buffer.buffer("Hello, world!");

  private final String host;
  private final int port;
  private final long delayMillis;
  private HttpServer server;

  public HelloServerVerticle(String host, int port) {
    this(host, port, 0);
  }

  public HelloServerVerticle(String host, int port, long delayMillis) {
    this.host = host;
    this.port = port;
    this.delayMillis = delayMillis;
  }

  @Override
  public Future<?> start() {
    server = vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port))
        .requestHandler(request -> {
          if (delayMillis > 0) {
            vertx.setTimer(delayMillis, id -> request.response().putHeader("content-type", "text/plain").end(HELLO));
          } else {
            request.response().putHeader("content-type", "text/plain").end(HELLO);
          }
        });
    return server.listen();
  }

  public int actualPort() {
    return server.actualPort();
  }
}
