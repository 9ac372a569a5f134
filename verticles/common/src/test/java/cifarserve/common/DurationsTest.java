package cifarserve.common;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Tag;

@Tag("unit")
class DurationsTest {
  @ParameterizedTest
  @CsvSource({"30, 30000", "0.3, 300", "1.5, 1500", "500ms, 500", "10s, 10000", "2m, 120000", "1h, 3600000",
      "1m30s, 90000", "' 2M ', 120000", "0, 0", "1.5s, 1500"})
  void acceptsBareSecondsAndUnitTerms(String text, long millis) {
    assertThat(Durations.parse(text)).isEqualTo(Duration.ofMillis(millis));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "soon", "10 s", "-5", "-5s", "5x", "s", "1m 30s", "1e3", "ms10"})
  void refusesAnythingElse(String text) {
    assertThatThrownBy(() -> Durations.parse(text)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("duration");
  }
}
