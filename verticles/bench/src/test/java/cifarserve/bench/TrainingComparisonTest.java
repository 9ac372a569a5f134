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
class TrainingComparisonTest {
  private static JsonObject run(double imagesPerSecond, String id) {
    return new JsonObject().put("imagesPerSecond", imagesPerSecond).put("id", id);
  }

  @Test
  void theMedianRunCarriesTheMedianAndEveryRunInTheOrderTheyRan() {
    JsonObject median = TrainingComparison.medianRun(List.of(run(480, "first"), run(350, "second"), run(455, "third")));
    assertEquals("third", median.getString("id"));
    assertEquals(455.0, median.getDouble("imagesPerSecond"));
    assertEquals(new JsonArray().add(480.0).add(350.0).add(455.0), median.getJsonArray("imagesPerSecondRuns"));
    assertEquals(3, median.getInteger("runs"));
  }

  @Test
  void anEvenCountReportsTheMeanOfTheMiddleTwoWithTheLowerRunsDetails() {
    JsonObject median = TrainingComparison.medianRun(List.of(run(400, "a"), run(300, "b"), run(500, "c"), run(420, "d")));
    assertEquals("a", median.getString("id"));
    assertEquals(410.0, median.getDouble("imagesPerSecond"));
  }

  private static JsonObject dl4j(double imagesPerSecond, long vmHwmMb) {
    return run(imagesPerSecond, "dl4j").put("imagesPerCpuSecond", imagesPerSecond / 2)
        .put("memory", new JsonObject().put("vmHwmMb", vmHwmMb));
  }

  @Test
  void runsAlternateAndTheRatioIsOfTheMedians() throws Exception {
    java.util.Iterator<JsonObject> ours = List.of(dl4j(400, 800), dl4j(300, 900), dl4j(350, 820)).iterator();
    java.util.Iterator<JsonObject> theirs = List.of(run(100, "t1").put("available", true),
        run(175, "t2").put("available", true), run(140, "t3").put("available", true)).iterator();
    List<String> order = new java.util.ArrayList<>();
    JsonObject training = TrainingComparison.measure(3, () -> {
      order.add("dl4j");
      return ours.next();
    }, () -> {
      order.add("reference");
      return theirs.next();
    }, new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
    assertEquals(List.of("dl4j", "reference", "dl4j", "reference", "dl4j", "reference"), order);
    assertEquals(350.0, training.getDouble("imagesPerSecond"));
    assertEquals(175.0, training.getDouble("imagesPerCpuSecond"));
    assertEquals(900L, training.getJsonObject("memory").getLong("vmHwmMb"));
    assertEquals("t3", training.getJsonObject("reference").getString("id"));
    assertEquals(2.5, training.getDouble("speedupOverReference"));
  }

  @Test
  void anAbsentReferenceIsAskedOnceAndReportedWithItsReason() throws Exception {
    int[] asked = {0};
    JsonObject training = TrainingComparison.measure(3, () -> dl4j(400, 800), () -> {
      asked[0]++;
      return new JsonObject().put("available", false).put("reason", "no python");
    }, new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
    assertEquals(1, asked[0]);
    assertEquals("no python", training.getJsonObject("reference").getString("reason"));
    assertEquals(false, training.containsKey("speedupOverReference"));
    assertEquals(3, training.getInteger("runs"));
  }

  @Test
  void atLeastOneTrainingRunIsAsked() {
    int exit = new CommandLine(new BenchCommand()).setErr(new java.io.PrintWriter(new java.io.StringWriter()))
        .execute("--training-runs", "0");
    assertEquals(2, exit);
  }
}
