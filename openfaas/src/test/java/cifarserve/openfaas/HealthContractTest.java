package cifarserve.openfaas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import cifarserve.openfaas.HeldRequest.Answer;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The OpenFaaS workload contract at max_inflight: /_/ready refuses while the limit is reached. */
class HealthContractTest {
  @Test
  void readyAnswers429WhileMaxInflightRequestsAreHeld() throws Exception {
    byte[] record = Samples.raw();
    try (FunctionContainer fn = FunctionContainer.of("max_inflight", "2", "write_timeout", "20s")) {
      fn.start();
      assertThat(fn.status("/_/ready")).as("idle").isEqualTo(200);
      try (HeldRequest first = fn.hold(record); HeldRequest second = fn.hold(record)) {
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(50))
            .untilAsserted(() -> assertThat(fn.status("/_/ready")).as("/_/ready with 2 requests in flight").isEqualTo(429));
        System.out.printf("[container] at max_inflight: /_/health %d%n", fn.status("/_/health"));
        Answer a = first.finish();
        Answer b = second.finish();
        Samples.assertCat(a.status(), a.body());
        Samples.assertCat(b.status(), b.body());
      }
      await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(50))
          .untilAsserted(() -> assertThat(fn.status("/_/ready")).as("once they completed").isEqualTo(200));
    }
  }
}
