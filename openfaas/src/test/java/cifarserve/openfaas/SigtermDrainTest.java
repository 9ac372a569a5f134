package cifarserve.openfaas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import cifarserve.openfaas.HeldRequest.Answer;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** docker stop (SIGTERM): the lock goes, what is in flight is answered, the function exits 0. */
class SigtermDrainTest {
  @Test
  void heldRequestCompletesAcrossSigtermAndTheFunctionExitsZero() throws Exception {
    byte[] record = Samples.raw();
    // max_inflight 1: /_/ready's 429 proves the held request is in flight before the signal
    try (FunctionContainer fn = FunctionContainer.of("max_inflight", "1", "write_timeout", "20s")) {
      fn.start();
      try (HeldRequest held = fn.hold(record)) {
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
            .untilAsserted(() -> assertThat(fn.status("/_/ready")).isEqualTo(429));
        var lock = fn.inside("/tmp/.lock");
        CompletableFuture<Long> exit = CompletableFuture.supplyAsync(() -> fn.stopGracefully(30));
        // the file, not HTTP: requests arriving after SIGTERM would keep the function answering longer
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(20))
            .until(() -> !lock.toFile().exists());
        assertThat(fn.status("/_/health")).as("/_/health after SIGTERM").isNotEqualTo(200);
        Answer answer = held.finish();
        Samples.assertCat(answer.status(), answer.body());
        assertThat(exit.get(60, TimeUnit.SECONDS)).as("exit code after draining").isZero();
      }
      assertThat(fn.diff()).as("docker diff: nothing written outside /tmp").isEmpty();
    }
  }

  /**
   * 120 classifications, 6 at a time, SIGTERM once 12 were answered: every request is answered 200 or
   * refused cleanly (connection refused, 503, 429), none reset or left without an answer mid-request.
   */
  @Test
  void stopDuringABurstAnswersOrRefusesEveryRequestCleanly() throws Exception {
    byte[] record = Samples.raw();
    try (FunctionContainer fn = FunctionContainer.of()) {
      fn.start();
      AtomicInteger answered = new AtomicInteger();
      ExecutorService pool = Executors.newFixedThreadPool(6);
      List<Future<String>> outcomes = new ArrayList<>();
      for (int i = 0; i < 120; i++) {
        outcomes.add(pool.submit(() -> outcome(fn, record, answered)));
      }
      await().atMost(Duration.ofSeconds(60)).until(() -> answered.get() >= 12);
      long exitCode = fn.stopGracefully(30);
      pool.shutdown();
      List<String> results = new ArrayList<>();
      for (Future<String> f : outcomes) {
        results.add(f.get(2, TimeUnit.MINUTES));
      }
      System.out.printf("[container] burst across docker stop: %d answered 200, %d refused cleanly, %d broken%n",
          results.stream().filter("200"::equals).count(), results.stream().filter(r -> r.startsWith("refused")).count(),
          results.stream().filter(r -> r.startsWith("broken")).count());
      assertThat(results).as("every request answered 200 or refused cleanly").allMatch(r -> r.equals("200") || r.startsWith("refused"));
      assertThat(results).as("some answered").contains("200");
      assertThat(exitCode).as("exit code").isZero();
    }
  }

  /** "200", "refused (...)" or "broken (...)" for one request over its own connection. */
  private static String outcome(FunctionContainer fn, byte[] record, AtomicInteger answered) {
    HeldRequest request;
    try {
      request = fn.hold(record);
    } catch (IOException e) {
      return FunctionContainer.refused(e) ? "refused (connect)" : "broken (" + e + ")";
    }
    try (request) {
      Answer answer = request.finish();
      if (answer.status() == 200) {
        answered.incrementAndGet();
        return "200";
      }
      return answer.status() == 503 || answer.status() == 429 ? "refused (" + answer.status() + ")"
          : "broken (status " + answer.status() + ": " + answer.body() + ")";
    } catch (IOException e) {
      return "broken (" + e + ")";
    }
  }
}
