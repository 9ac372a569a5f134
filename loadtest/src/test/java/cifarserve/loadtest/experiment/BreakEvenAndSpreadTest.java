package cifarserve.loadtest.experiment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Tag;

@Tag("unit")
class BreakEvenAndSpreadTest {
  private final BreakEven model = new BreakEven(0.05, 0.5, 0.01, 0.3, 0.02, 6.0, 2.0, 60);

  @Test
  void atZeroRateTheFunctionCostsNothingAndTheNodeItsIdle() {
    assertThat(model.functionCpuSecondsPerHour(0)).isZero();
    assertThat(model.functionGiBSecondsPerHour(0)).isZero();
    assertThat(model.alwaysOnCpuSecondsPerHour(0)).isCloseTo(180, within(1e-9));
    assertThat(model.alwaysOnGiBSecondsPerHour(0)).isCloseTo(1800, within(1e-9));
  }

  @Test
  void atHighRateTheFunctionStaysWarmAndPaysNoColdStarts() {
    assertThat(model.warmSecondsPerHour(10)).isCloseTo(3600, within(1e-6));
    assertThat(model.coldStartsPerHour(10)).isLessThan(1e-6);
    // one request a minute with Z = 60 s: e^-1 of the gaps are cold
    assertThat(model.coldStartsPerHour(1.0 / 60)).isCloseTo(60 * Math.exp(-1), within(1e-9));
  }

  @Test
  void cpuCrossingIsWhereBothCostsMeet() {
    // with 6 CPU-s cold starts the function never costs the idle node's 180 CPU-s/h (max ~155): no crossing
    assertThat(model.cpuCrossing(1e-5, 100)).isNaN();
    BreakEven model = new BreakEven(0.05, 0.5, 0.01, 0.3, 0.02, 20.0, 2.0, 60);
    double rate = model.cpuCrossing(1e-5, 100);
    assertThat(rate).isBetween(1e-5, 100.0);
    assertThat(model.functionCpuSecondsPerHour(rate)).isCloseTo(model.alwaysOnCpuSecondsPerHour(rate), within(1e-3));
    assertThat(model.functionCpuSecondsPerHour(rate / 2)).isLessThan(model.alwaysOnCpuSecondsPerHour(rate / 2));
  }

  @Test
  void noCrossingWhenTheWarmFunctionIsCheaperThanTheIdleNode() {
    // memory: a warm function (0.3 GiB) never reaches the node's 0.5 GiB
    BreakEven cheapColdStarts = new BreakEven(0.05, 0.5, 0.01, 0.3, 0.02, 6.0, 0.0, 60);
    assertThat(cheapColdStarts.memoryCrossing(1e-5, 100)).isNaN();
  }

  @Test
  void spreadIgnoresMissingValuesAndTakesTheMiddle() {
    Spread s = Spread.of(Arrays.asList(5.0, null, 1.0, 3.0, 4.0));
    assertThat(s.median()).isEqualTo(3.5);
    assertThat(s.min()).isEqualTo(1.0);
    assertThat(s.max()).isEqualTo(5.0);
    assertThat(s.count()).isEqualTo(4);
    assertThat(Spread.of(Arrays.asList(2.0, 9.0, 4.0)).median()).isEqualTo(4.0);
    assertThat(Spread.of(Arrays.asList((Double) null)).filled()).isFalse();
    assertThat(Spread.of(Arrays.asList(1.0, 2.0, 3.0)).format("%.1f")).isEqualTo("2.0 (1.0–3.0)");
  }
}
