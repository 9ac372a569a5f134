package cifarserve.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/** The from-nothing budget's one-cycle: warm-up from the study's 0.01 (the base) to the peak, cosine to 0. */
class WarmupCosineScheduleTest {
  @Test
  void oneCycleClimbsFromItsBaseToThePeakThenDecaysToTheFloor() {
    ISchedule s = new WarmupCosineSchedule(0.02, 0, 100, 1000, 0.01);
    assertThat(s.valueAt(0, 0)).isEqualTo(0.01);
    assertThat(s.valueAt(50, 0)).isCloseTo(0.015, within(1e-12));
    assertThat(s.valueAt(100, 0)).isCloseTo(0.02, within(1e-12));
    assertThat(s.valueAt(550, 0)).isCloseTo(0.01, within(1e-4));
    assertThat(s.valueAt(999, 2)).isCloseTo(0, within(1e-12));
  }

  @Test
  void withoutABaseTheWarmUpStartsNearZeroAsBefore() {
    ISchedule s = new WarmupCosineSchedule(0.01, 0, 100, 1000);
    assertThat(s.valueAt(0, 0)).isCloseTo(0.0001, within(1e-12));
    assertThat(s.valueAt(99, 0)).isCloseTo(0.01, within(1e-12));
  }

  @Test
  void aStoredScheduleWithoutItsBaseReadsAsStartingFromZero() throws Exception {
    ObjectMapper json = new ObjectMapper();
    // as DL4J stored it in the configuration of models trained before the base existed (the shipped one)
    String saved = "{\"@class\":\"cifarserve.training.WarmupCosineSchedule\",\"peak\":0.01,\"floor\":0.0,\"warmupIterations\":100,\"totalIterations\":1000}";
    WarmupCosineSchedule read = json.readValue(saved, WarmupCosineSchedule.class);
    assertThat(read.start()).isZero();
    assertThat(json.readValue(json.writeValueAsString(new WarmupCosineSchedule(0.02, 0, 10, 100, 0.01)),
        WarmupCosineSchedule.class).start()).isEqualTo(0.01);
  }

  @Test
  void aBaseAboveThePeakIsRefused() {
    assertThatThrownBy(() -> new WarmupCosineSchedule(0.01, 0, 10, 100, 0.02)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new TrainingOptions(3, 0, 0, 64, 1, true, false, 0.01, TrainingOptions.COSINE, 0.3, 0, 0.02, "x"))
        .hasMessageContaining("base learning rate");
  }
}
