package cifarserve.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Epochs may end in a fraction: whole passes, then part of one, in batches rounded to the nearest. */
@Tag("unit")
class TrainingOptionsTest {
  private static TrainingOptions epochs(double epochs) {
    return TrainingOptions.fromJson(new JsonObject().put("epochs", epochs).put("warmupEpochs", 0.0001), "test");
  }

  @Test
  void aFractionRunsItsWholePassesThenPartOfTheNext() {
    assertThat(epochs(2.75).passes()).isEqualTo(3);
    assertThat(epochs(2.75).totalBatches(1563)).isEqualTo(4298);
    assertThat(epochs(3).passes()).isEqualTo(3);
    assertThat(epochs(3).totalBatches(1563)).isEqualTo(4689);
    assertThat(epochs(0.5).passes()).isEqualTo(1);
    assertThat(epochs(0.001).totalBatches(10)).isEqualTo(1);
  }

  @Test
  void wholeEpochsStayIntegersInJsonAndAFractionReadsBack() {
    assertThat(epochs(3).toJson().getValue("epochs")).isEqualTo(3);
    assertThat(epochs(2.75).toJson().getValue("epochs")).isEqualTo(2.75);
    assertThat(TrainingOptions.fromJson(epochs(2.75).toJson(), "again")).isEqualTo(
        new TrainingOptions(2.75, 0, 0, 32, 42L, true, false, 0.01, TrainingOptions.COSINE, 0.0001, 4, 0.0, "again"));
  }

  @Test
  void aRequestMayAskForAFractionButNotForNothingOrTooMuch() {
    JsonObject defaults = new JsonObject().put("epochs", 3).put("warmupEpochs", 0.3);
    assertThat(TrainingRequest.validate(new JsonObject().put("epochs", 2.5), defaults).epochs()).isEqualTo(2.5);
    for (Object bad : new Object[] {0, -1, 200.5, "2"}) {
      assertThatThrownBy(() -> TrainingRequest.validate(new JsonObject().put("epochs", bad), defaults))
          .as(String.valueOf(bad)).isInstanceOf(TrainingRequest.InvalidOption.class).hasMessageStartingWith("epochs");
    }
    assertThatThrownBy(() -> TrainingRequest.validate(new JsonObject().put("epochs", 0.25), defaults))
        .hasMessageStartingWith("warmupEpochs");
  }
}
