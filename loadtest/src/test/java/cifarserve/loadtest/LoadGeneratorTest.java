package cifarserve.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.transport.Transport;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The command line end to end against a real local server with injected delays and status codes. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class LoadGeneratorTest {
  @TempDir
  Path tmp;

  private TestTargetServer server;

  @BeforeEach
  void startServer() throws Exception {
    server = new TestTargetServer();
  }

  @AfterEach
  void stopServer() throws Exception {
    server.close();
  }

  @Test
  void theStudysAbLineRunsUnchangedAndPrintsAnAbLikeSummary() throws Exception {
    CliRun run = CliRun.run(tmp, "-n", "10", "-c", "2", "-s", "300", server.url("/"));

    assertThat(run.exitCode()).as(run.stderr()).isZero();
    assertThat(run.stdout())
        .contains("Concurrency Level:      2")
        .contains("Complete requests:      10")
        .contains("Failed requests:        0")
        .contains("Requests per second:")
        .contains("Percentage of the requests served within a certain time (ms)")
        .contains("(longest request)")
        .contains("Status codes:           200: 10");
    assertThat(server.received.get()).isEqualTo(10);
    assertThat(run.requests().getJsonObject("statusCodes").getLong("200")).isEqualTo(10);
  }

  @Test
  void abBodyHeaderAndMethodOptionsShapeTheRequest() throws Exception {
    Path body = java.nio.file.Files.write(tmp.resolve("body.json"), "{\"hello\":1}".getBytes());
    CliRun post = CliRun.run(tmp, "-n", "3", "-p", body.toString(), "-T", "application/json", "-H", "X-Probe: yes",
        server.url("/inspect"));
    assertThat(post.exitCode()).as(post.stderr()).isZero();
    assertThat(server.lastInspected).isEqualTo("POST|application/json|yes|11");
    assertThat(post.json().getJsonObject("bytes").getLong("bodySent")).isEqualTo(33);

    CliRun put = CliRun.run(tmp, "-n", "1", "-m", "put", "--body-file", body.toString(), server.url("/inspect"));
    assertThat(put.exitCode()).isZero();
    assertThat(server.lastInspected).isEqualTo("PUT|application/octet-stream|null|11");
  }

  @Test
  void countsAndPercentilesFollowTheInjectedDelay() throws Exception {
    CliRun run = CliRun.run(tmp, "-n", "120", "-c", "4", "-k", server.url("/delay?ms=20"));

    assertThat(run.requests().getLong("completed")).isEqualTo(120);
    assertThat(run.requests().getLong("successful")).isEqualTo(120);
    JsonObject lat = run.latency();
    // A latency can never be below the server's delay (allow the histogram's 0.1 % precision).
    assertThat(lat.getDouble("min")).isGreaterThanOrEqualTo(20 * 0.999);
    // Upper bounds are loose on purpose: the test machine is shared and often saturated; they only
    // catch unit mistakes. The lower bounds are exact.
    assertThat(lat.getDouble("p50")).isBetween(20 * 0.999, 1000.0);
    assertThat(lat.getDouble("p50")).isLessThanOrEqualTo(lat.getDouble("p90"));
    assertThat(lat.getDouble("p99")).isLessThanOrEqualTo(lat.getDouble("max"));
  }

  @Test
  void percentilesSeparateAFastAndASlowPopulation() throws Exception {
    // Every 4th request takes 80 ms, the others 5 ms: p50 must be fast, p90 slow.
    CliRun run = CliRun.run(tmp, "-n", "200", "-c", "1", "-k", server.url("/alternate?fast=5&slow=80&n=4"));

    JsonObject lat = run.latency();
    assertThat(lat.getDouble("p50")).isBetween(5 * 0.999, 80 * 0.999);
    assertThat(lat.getDouble("p90")).isGreaterThanOrEqualTo(80 * 0.999);
    assertThat(lat.getDouble("mean")).isBetween(0.75 * 5 + 0.25 * 80 * 0.999, 0.75 * 5 + 0.25 * 80 + 500);
  }

  @Test
  void keepAliveReusesOneConnectionPerSlotAndWithoutItEachRequestHasItsOwn() throws Exception {
    CliRun kept = CliRun.run(tmp, "-n", "60", "-c", "3", "-k", server.url("/delay?ms=2"));
    assertThat(kept.requests().getLong("successful")).isEqualTo(60);
    assertThat(server.connections.get()).isEqualTo(3);

    server.connections.set(0);
    CliRun closed = CliRun.run(tmp, "-n", "20", "-c", "2", server.url("/ok"));
    assertThat(closed.requests().getLong("successful")).isEqualTo(20);
    assertThat(server.connections.get()).isEqualTo(20);
  }

  @Test
  void everyTransportThatLoadsHereGivesTheSameCountsAndReportsItself() throws Exception {
    // NIO always loads; epoll and io_uring where the kernel and sandbox allow them (auto picks the first of io_uring, epoll).
    List<String> transports = new ArrayList<>(List.of("nio"));
    if (Transport.EPOLL.available()) {
      transports.add("epoll");
    }
    if (Transport.IO_URING.available()) {
      transports.add("io_uring");
    }
    for (String transport : transports) {
      server.connections.set(0);
      CliRun run = CliRun.run(tmp, "-n", "40", "-c", "2", "-k", "--transport", transport, server.url("/delay?ms=1"));
      assertThat(run.requests().getLong("successful")).as(transport).isEqualTo(40);
      assertThat(server.connections.get()).as(transport).isEqualTo(2);
      assertThat(run.json().getJsonObject("generator").getString("transport")).isEqualTo(transport);
      assertThat(run.stdout()).contains("over " + transport);
    }
    String expectedAuto = Transport.IO_URING.available() ? "io_uring" : Transport.EPOLL.available() ? "epoll" : "nio";
    CliRun auto = CliRun.run(tmp, "-n", "5", "-c", "1", "-k", server.url("/ok"));
    assertThat(auto.json().getJsonObject("generator").getString("transport")).isEqualTo(expectedAuto);
    assertThat(CliRun.run(tmp, "-n", "1", "--transport", "carrier-pigeon", server.url("/ok")).exitCode()).isEqualTo(2);
  }

  @Test
  void timedOutConnectionsAreReplacedAndLaterRequestsSucceed() throws Exception {
    // Every 2nd request on /alternate takes 3 s, beyond the 0.5 s timeout; the others 1 ms. Each
    // timeout closes its connection; the slot's next request must open a new one and succeed.
    CliRun run = CliRun.run(tmp, "-n", "6", "-c", "1", "-k", "-s", "0.5", server.url("/alternate?fast=1&slow=3000&n=2"));

    assertThat(run.requests().getLong("timeouts")).isEqualTo(3);
    assertThat(run.requests().getLong("successful")).isEqualTo(3);
    assertThat(run.requests().getLong("connectionErrors")).isZero();
    assertThat(server.connections.get()).isEqualTo(3); // the first, and one after each of the first 2 timeouts
  }

  @Test
  void answersAreReadWhateverTheirFraming() throws Exception {
    // Chunked bodies are counted in full; a HEAD answer announces a length but has no body (waiting
    // for it would end in timeouts); "Connection: close" from the server is obeyed even with -k.
    CliRun chunked = CliRun.run(tmp, "-n", "10", "-c", "2", "-k", "-s", "5", server.url("/chunked?parts=4"));
    assertThat(chunked.requests().getLong("successful")).isEqualTo(10);
    assertThat(chunked.json().getJsonObject("bytes").getLong("bodyReceived")).isEqualTo(10 * 12);

    CliRun head = CliRun.run(tmp, "-n", "10", "-c", "1", "-k", "-s", "2", "-m", "HEAD", server.url("/ok"));
    assertThat(head.requests().getLong("successful")).isEqualTo(10);
    assertThat(head.requests().getLong("timeouts")).isZero();
    assertThat(head.json().getJsonObject("bytes").getLong("bodyReceived")).isZero();

    server.connections.set(0);
    CliRun close = CliRun.run(tmp, "-n", "10", "-c", "2", "-k", "-s", "5", server.url("/close"));
    assertThat(close.requests().getLong("successful")).isEqualTo(10);
    assertThat(close.requests().getLong("connectionErrors")).isZero();
    assertThat(server.connections.get()).isEqualTo(10);
  }

  @Test
  void aHangUpIsAConnectionErrorAndGarbageIsAnotherFailure() throws Exception {
    CliRun hangUp = CliRun.run(tmp, "-n", "6", "-c", "2", "-k", "-s", "5", server.url("/hang-up"));
    assertThat(hangUp.requests().getLong("connectionErrors")).isEqualTo(6);
    assertThat(hangUp.requests().getLong("answered")).isZero();
    assertThat(hangUp.requests().getLong("timeouts")).isZero();

    // A server that answers every request with bytes that are not HTTP.
    Vertx vertx = Vertx.vertx();
    try {
      NetServer garbage = vertx.createNetServer().connectHandler(socket -> socket.handler(request ->
          socket.write("SSH-2.0-OpenSSH_9.2\r\n\r\n")));
      garbage.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
      CliRun run = CliRun.run(tmp, "-n", "4", "-c", "1", "-k", "-s", "5",
          "http://127.0.0.1:" + garbage.actualPort() + "/");
      assertThat(run.requests().getLong("otherFailures")).isEqualTo(4);
      assertThat(run.requests().getLong("answered")).isZero();
      assertThat(run.requests().getLong("timeouts")).isZero();
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void statusCodesAreCountedAndNon2xxAreFailures() throws Exception {
    CliRun run = CliRun.run(tmp, "-n", "100", "-c", "2", "-k", server.url("/every?n=4&code=503"));

    JsonObject statuses = run.requests().getJsonObject("statusCodes");
    assertThat(statuses.getLong("200")).isEqualTo(75);
    assertThat(statuses.getLong("503")).isEqualTo(25);
    assertThat(run.requests().getLong("non2xx")).isEqualTo(25);
    assertThat(run.requests().getLong("failed")).isEqualTo(25);
    assertThat(run.requests().getLong("timeouts")).isZero();
    assertThat(run.stdout()).contains("Non-2xx: 25");
  }

  @Test
  void slowAnswersBeyondTheTimeoutAreCountedAsTimeouts() throws Exception {
    CliRun run = CliRun.run(tmp, "-n", "4", "-c", "2", "-s", "0.3", server.url("/delay?ms=3000"));

    assertThat(run.requests().getLong("timeouts")).isEqualTo(4);
    assertThat(run.requests().getLong("answered")).isZero();
    assertThat(run.requests().getLong("connectionErrors")).isZero();
    assertThat(run.json().getDouble("elapsedSeconds")).isLessThan(2.5);
  }

  @Test
  void refusedConnectionsAreConnectionErrorsAndFailTheBudget() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    String url = "http://127.0.0.1:" + closedPort + "/";

    CliRun strict = CliRun.run(tmp, "-n", "5", "-c", "1", "-s", "2", "--max-failures", "0", url);
    assertThat(strict.requests().getLong("connectionErrors")).isEqualTo(5);
    assertThat(strict.requests().getLong("timeouts")).isZero();
    assertThat(strict.requests().getLong("otherFailures")).isZero();
    assertThat(strict.exitCode()).isEqualTo(1);
    assertThat(strict.stderr()).contains("exceeds --max-failures");

    CliRun lenient = CliRun.run(tmp, "-n", "5", "-c", "1", "-s", "2", "--max-failures", "100%", url);
    assertThat(lenient.exitCode()).isZero();
  }

  @Test
  void aBodyOfVaryingLengthIsNotAFailure() throws Exception {
    CliRun run = CliRun.run(tmp, "-n", "50", "-c", "2", "-k", server.url("/vary"));

    assertThat(run.requests().getLong("failed")).isZero();
    JsonObject bytes = run.json().getJsonObject("bytes");
    assertThat(bytes.getLong("bodyLengthMin")).isLessThan(bytes.getLong("bodyLengthMax"));
    assertThat(run.stdout()).contains("Document Length:        varies");
  }

  @Test
  void warmupRequestsAreSentButExcluded() throws Exception {
    CliRun run = CliRun.run(tmp, "-n", "20", "--warmup", "10", "-c", "1", "-k", server.url("/ok"));

    assertThat(server.received.get()).isEqualTo(30);
    assertThat(run.requests().getLong("completed")).isEqualTo(20);
    assertThat(run.requests().getLong("warmupExcluded")).isEqualTo(10);
  }

  @Test
  void durationBoundsAClosedRun() throws Exception {
    CliRun run = CliRun.run(tmp, "-t", "1", "-c", "2", "-k", server.url("/delay?ms=10"));

    assertThat(run.json().getDouble("elapsedSeconds")).isBetween(0.9, 2.0);
    assertThat(run.requests().getLong("completed")).isBetween(5L, 210L);
  }

  @Test
  void openModelCorrectionShowsAOneSecondStallThatUncorrectedFiguresHide() throws Exception {
    // 50 arrivals/s for 3 s on one connection; the 10th request is held for 1 s. About 50 arrivals
    // queue behind it: latency from the intended send time shows the queue, latency from the
    // actual send shows one slow request only.
    CliRun run = CliRun.run(tmp, "--rate", "50/s", "--duration", "3s", "-c", "1", "-k",
        server.url("/stall-once?after=10&ms=1000"));

    JsonObject corrected = run.latency();
    JsonObject uncorrected = run.uncorrected();
    assertThat(run.requests().getLong("completed")).isBetween(40L, 151L);
    assertThat(corrected.getDouble("p99")).isGreaterThanOrEqualTo(800.0);
    assertThat(corrected.getDouble("p90")).isGreaterThanOrEqualTo(200.0);
    assertThat(uncorrected.getDouble("max")).isGreaterThanOrEqualTo(1000 * 0.999);
    assertThat(corrected.getDouble("p90")).isGreaterThan(2 * uncorrected.getDouble("p90"));
    assertThat(corrected.getDouble("p50")).isGreaterThan(uncorrected.getDouble("p50"));
    assertThat(run.stdout()).contains("corrected / uncorrected").contains("Arrivals not sent:");
  }

  @Test
  void openModelCountsArrivalsThatFoundNoFreeConnection() throws Exception {
    // 50/s for 1 s on one connection whose answers take 200 ms: at most 6 can be sent.
    CliRun run = CliRun.run(tmp, "--rate", "50", "--duration", "1s", "-c", "1", "-k", server.url("/delay?ms=200"));

    long sent = run.requests().getLong("sent");
    long notSent = run.requests().getLong("notSent");
    assertThat(sent).isBetween(2L, 6L);
    assertThat(sent + notSent).isBetween(48L, 51L);
  }
}
