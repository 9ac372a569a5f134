package cifarserve.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The benchmark measures what users get: child JVMs inherit the deployed engine environment. */
@Tag("unit")
class BenchCommandTest {
  private static Map<String, String> childEnvironment(String... args) {
    BenchCommand command = new BenchCommand();
    new CommandLine(command).parseArgs(args);
    return command.childEnvironment();
  }

  @Test
  void versionNamesTheEnginesAFigureWasMeasuredWith() {
    java.io.StringWriter out = new java.io.StringWriter();
    int exit = new CommandLine(new BenchCommand()).setOut(new java.io.PrintWriter(out)).execute("-V");
    assertEquals(0, exit);
    assertTrue(out.toString().matches("(?s)cifar-serve-bench \\S+ \\(Deeplearning4j 1\\.\\S+, ONNX Runtime 1\\.\\S+, Java .*"),
        out.toString());
    assertFalse(out.toString().contains("unknown"), out.toString());
  }

  private static Map<String, String> trainingEnvironment(String... args) {
    BenchCommand command = new BenchCommand();
    new CommandLine(command).parseArgs(args);
    return command.trainingEnvironment();
  }

  @Test
  void childJvmsGetTheDeployedEnvironmentByDefault() {
    assertEquals(Map.of("OMP_WAIT_POLICY", "PASSIVE", "OPENBLAS_THREAD_TIMEOUT", "4"), childEnvironment());
  }

  @Test
  void onlyTheTrainingJvmsGetTheTrainingEnvironmentOnTop() {
    Map<String, String> expected = new java.util.HashMap<>(Map.of("OMP_WAIT_POLICY", "PASSIVE", "OPENBLAS_THREAD_TIMEOUT", "4"));
    expected.putAll(Benchmark.TRAIN_ENV);
    assertEquals(expected, trainingEnvironment());
    assertEquals(Map.of("OMP_NUM_THREADS", "1"), trainingEnvironment("--bare-env", "--child-env", "OMP_NUM_THREADS=1"));
  }

  @Test
  void childEnvOptionsOverrideAndExtendTheDeployedEnvironment() {
    assertEquals(Map.of("OMP_WAIT_POLICY", "ACTIVE", "OPENBLAS_THREAD_TIMEOUT", "4", "OMP_NUM_THREADS", "2"),
        childEnvironment("--child-env", "OMP_WAIT_POLICY=ACTIVE", "--child-env", "OMP_NUM_THREADS=2"));
    assertEquals("0", trainingEnvironment("--child-env", "MALLOC_TRIM_THRESHOLD_=0").get("MALLOC_TRIM_THRESHOLD_"));
  }

  @Test
  void theJsonReportNamesNoPathOfThisMachine() {
    String javaHome = System.getProperty("java.home");
    String text = "{\"javaHome\": \"" + javaHome + "\", \"modelDir\": \"" + Path.of("models").toAbsolutePath() + "\"}";
    String portable = BenchCommand.portablePaths(text);
    assertFalse(portable.contains(Path.of("").toAbsolutePath().toString()), portable);
    assertTrue(portable.contains("\"$REPO/models\""), portable);
    assertTrue(portable.contains("$JVM_DIR/" + Path.of(javaHome).getFileName()), portable);
  }

  @Test
  void bareEnvDropsTheDeployedSettings() {
    assertEquals(Map.of("OMP_NUM_THREADS", "1"), childEnvironment("--bare-env", "--child-env", "OMP_NUM_THREADS=1"));
  }
}
