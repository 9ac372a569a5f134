package cifarserve.loadtest.cli;

import cifarserve.loadtest.hello.HelloServerVerticle;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code serve-hello}: a minimal Vert.x HTTP server, the trivial loopback target of bench/compare-wrk.sh. */
@Command(name = "serve-hello", mixinStandardHelpOptions = true,
    description = "Serve 'Hello, world!' on every path (a trivial target for comparing load generators).")
public final class ServeHelloCommand implements Callable<Integer> {
  @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--port", defaultValue = "8099", description = "Port, 0 for any free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--instances", defaultValue = "1",
      description = "Server verticle instances / event loops (default: ${DEFAULT-VALUE}).")
  int instances;

  @Option(names = "--delay-ms", defaultValue = "0",
      description = "Answer after this many ms (a known latency to check measurements against; default ${DEFAULT-VALUE}).")
  long delayMillis;

  @Option(names = "--exit-after", converter = DurationConverter.class, description = "Stop by itself after this long (e.g. 120s); default: run until killed.")
  Duration exitAfter;

  @Override
  public Integer call() throws Exception {
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(Math.max(1, instances)).setPreferNativeTransport(true));
    int actual = -1;
    for (int i = 0; i < Math.max(1, instances); i++) {
      HelloServerVerticle verticle = new HelloServerVerticle(host, actual > 0 ? actual : port, delayMillis);
      vertx.deployVerticle(verticle).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      actual = verticle.actualPort();
    }
    System.out.println("serve-hello listening on " + host + ":" + actual);
    System.out.flush();
    CountDownLatch stop = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
    if (exitAfter != null) {
      stop.await(exitAfter.toMillis(), TimeUnit.MILLISECONDS);
    } else {
      stop.await();
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    return 0;
  }
}
