package cifarserve.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The training figure and its reference are medians over runs, not one pair of a noisy host. */
@Tag("unit")
class TrainingRunsTest {
  private static JsonObject run(double imagesPerSecond, String id) {
    return new JsonObject().put("imagesPerSecond", imagesPerSecond).put("id", id);
  }

  @Test
  void theMedianRunCarriesTheMedianAndEveryRunInTheOrderTheyRan() {
    JsonObject median = Benchmark.medianRun(List.of(run(480, "first"), run(350, "second"), run(455, "third")));
    assertEquals("third", median.getString("id"));
    assertEquals(455.0, median.getDouble("imagesPerSecond"));
    assertEquals(new JsonArray().add(480.0).add(350.0).add(455.0), median.getJsonArray("imagesPerSecondRuns"));
    assertEquals(3, median.getInteger("runs"));
  }

  @Test
  void anEvenCountReportsTheMeanOfTheMiddleTwoWithTheLowerRunsDetails() {
    JsonObject median = Benchmark.medianRun(List.of(run(400, "a"), run(300, "b"), run(500, "c"), run(420, "d")));
    assertEquals("a", median.getString("id"));
    assertEquals(410.0, median.getDouble("imagesPerSecond"));
  }

  @Test
  void atLeastOneTrainingRunIsAsked() {
    int exit = new CommandLine(new BenchCommand()).setErr(new java.io.PrintWriter(new java.io.StringWriter()))
        .execute("--training-runs", "0");
    assertEquals(2, exit);
  }
}
