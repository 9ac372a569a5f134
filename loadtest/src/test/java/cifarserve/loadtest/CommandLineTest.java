package cifarserve.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import cifarserve.common.Durations;
import cifarserve.loadtest.cli.FailureBudget;
import cifarserve.loadtest.generator.FailureClassifier;
import cifarserve.loadtest.generator.Outcome;
import io.vertx.core.http.HttpClosedException;
import java.net.ConnectException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Tag;

/** Option parsing and failure classification. */
@Tag("unit")
class CommandLineTest {
  @TempDir
  Path tmp;

  @Test
  void durationsAcceptAbSecondsAndUnits() {
    assertThat(Durations.parse("300")).isEqualTo(Duration.ofSeconds(300));
    assertThat(Durations.parse("0.3")).isEqualTo(Duration.ofMillis(300));
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThatThrownBy(() -> Durations.parse("soon")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void maxFailuresIsACountOrAPercentage() {
    FailureBudget count = FailureBudget.parse("3");
    assertThat(count.exceededBy(3, 10)).isFalse();
    assertThat(count.exceededBy(4, 10)).isTrue();
    FailureBudget share = FailureBudget.parse("2.5%");
    assertThat(share.exceededBy(2, 100)).isFalse();
    assertThat(share.exceededBy(3, 100)).isTrue();
    assertThatThrownBy(() -> FailureBudget.parse("1.5")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> FailureBudget.parse("150%")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void failuresAreClassifiedThroughTheCauseChain() {
    assertThat(FailureClassifier.classify(new ConnectException("Connection refused"))).isEqualTo(Outcome.CONNECTION_ERROR);
    assertThat(FailureClassifier.classify(new RuntimeException(new ConnectException("refused"))))
        .isEqualTo(Outcome.CONNECTION_ERROR);
    assertThat(FailureClassifier.classify(new HttpClosedException("closed"))).isEqualTo(Outcome.CONNECTION_ERROR);
    assertThat(FailureClassifier.classify(new TimeoutException("The timeout period of 300ms has been exceeded")))
        .isEqualTo(Outcome.TIMEOUT);
    assertThat(FailureClassifier.classify(new io.netty.channel.ConnectTimeoutException("connect timed out")))
        .isEqualTo(Outcome.TIMEOUT);
    assertThat(FailureClassifier.classify(new IllegalStateException("bad"))).isEqualTo(Outcome.OTHER);
  }

  @Test
  void contradictoryOrInvalidOptionsAreUsageErrors() throws Exception {
    assertThat(CliRun.run(tmp, "--rate", "10", "http://127.0.0.1:1/").exitCode()).isEqualTo(2);
    assertThat(CliRun.run(tmp, "-n", "0", "http://127.0.0.1:1/").exitCode()).isEqualTo(2);
    assertThat(CliRun.run(tmp, "-n", "1", "ftp://127.0.0.1/").exitCode()).isEqualTo(2);
    assertThat(CliRun.run(tmp, "-n", "1", "-H", "no-colon", "http://127.0.0.1:1/").exitCode()).isEqualTo(2);
    CliRun badPid = CliRun.run(tmp, "-n", "1", "--pid", "999999999", "http://127.0.0.1:1/");
    assertThat(badPid.exitCode()).isEqualTo(2);
    assertThat(badPid.stderr()).contains("999999999");
  }
}
