package cifarserve.http;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.PrometheusScrapingHandler;

/**
 * A listener that answers GET /metrics and nothing else (every other path and method: 404 JSON), on its
 * own port ({@code http.metricsPort}). On EC2 the monitoring CIDR is let in to this port only, so a
 * Prometheus server can scrape each node without reaching the API (classify, admin) on the main port.
 */
final class MetricsListener {
  private MetricsListener() {
  }

  static Future<HttpServer> listen(Vertx vertx, String host, int port) {
    Router router = Router.router(vertx);
    router.get("/metrics").handler(PrometheusScrapingHandler.create());
    router.route().handler(ctx -> Responses.error(ctx, 404, "not found"));
    return vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port)
            .setHttp2ClearTextEnabled(false))
        .requestHandler(router).listen();
  }
}
