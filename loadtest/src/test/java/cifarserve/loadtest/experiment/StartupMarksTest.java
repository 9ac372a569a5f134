package cifarserve.loadtest.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Tag;

/** The experiment's "JVM to main" phases come from the line the service logs once it listens. */
@Tag("unit")
class StartupMarksTest {
  private static Map<String, Double> measured() {
    Map<String, Double> phases = new LinkedHashMap<>();
    phases.put("containerCreate", 0.10);
    phases.put("containerStart", 0.30);
    phases.put("httpLive", 0.90);
    phases.put("modelLoaded", 1.20);
    phases.put("firstAnswer", 1.30);
    return phases;
  }

  @Test
  void marksBecomePhasesFromDockerCreateInPlaceBeforeHttpLive() {
    String log = "cifar-serve function listening on port 8080 (started in 512 ms)\n"
        + "startup marks (epoch ms): process 1000250, main 1000410, listening 1000880\n";
    Map<String, Double> phases = Container.withStartupMarks(measured(), log, 1_000_000);

    assertThat(phases.keySet()).containsExactly("containerCreate", "containerStart", "processStart", "main", "httpLive",
        "modelLoaded", "firstAnswer");
    assertThat(phases.get("processStart")).isEqualTo(0.25);
    assertThat(phases.get("main")).isEqualTo(0.41);
    assertThat(phases.get("firstAnswer")).isEqualTo(1.30);
  }

  @Test
  void aLogWithoutMarksOrWithAnUnknownProcessStartLeavesThePhasesAsMeasured() {
    assertThat(Container.withStartupMarks(measured(), "cifar-serve listening\n", 1_000_000)).isEqualTo(measured());
    assertThat(Container.withStartupMarks(measured(), "startup marks (epoch ms): process -1, main 1000410, listening 1",
        1_000_000)).isEqualTo(measured());
  }
}
