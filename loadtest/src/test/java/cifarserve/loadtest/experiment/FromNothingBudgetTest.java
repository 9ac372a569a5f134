package cifarserve.loadtest.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The experiment's "startup from nothing" trains the budget a deployed node trains, not one of its own. */
@Tag("unit")
class FromNothingBudgetTest {
  @Test
  void theDefaultEpochsAreTheNodesConfiguredBudget() throws Exception {
    for (String name : new String[] {"ec2.json", "local.json"}) {
      JsonObject conf = new JsonObject(Files.readString(Path.of("..", "conf", name)));
      assertThat(conf.getJsonObject("training").getDouble("epochs")).as(name)
          .isEqualTo(ExperimentSettings.FROM_NOTHING_EPOCHS);
    }
  }

  @Test
  void epochsAreWrittenAsPeopleWriteThem() {
    assertThat(ExperimentSettings.epochsText(3)).isEqualTo("3");
    assertThat(ExperimentSettings.epochsText(2.75)).isEqualTo("2.75");
  }
}
