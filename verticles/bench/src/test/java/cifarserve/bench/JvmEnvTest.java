package cifarserve.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The harness reads conf/jvm.env, the file the scripts source, and gets what the deployments set. */
@Tag("unit")
class JvmEnvTest {
  private static final Path CONF = Path.of("../../conf/jvm.env");

  @Test
  void readsTheFileTheScriptsSource() throws IOException {
    Map<String, String> file = JvmEnv.parse(Files.readString(CONF));
    assertThat(file).containsKeys("ENGINE_ENV", "TRAIN_ENV", "NODE_JVM_LIMITS", "TRAIN_JVM_LIMITS", "SERVE_JVM_LIMITS");
    assertThat(String.join(" ", Benchmark.TRAIN_JVM_ARGS)).isEqualTo(file.get("TRAIN_JVM_LIMITS"));
    assertThat(String.join(" ", Benchmark.SERVE_JVM_ARGS)).isEqualTo(file.get("SERVE_JVM_LIMITS"));
  }

  @Test
  void childJvmsGetTheEngineEnvironmentAndExplicitLimits() {
    assertThat(Benchmark.DEPLOYED_ENV).containsEntry("OMP_WAIT_POLICY", "PASSIVE")
        .containsEntry("OPENBLAS_THREAD_TIMEOUT", "4");
    assertThat(Benchmark.TRAIN_ENV).doesNotContainKeys(Benchmark.DEPLOYED_ENV.keySet().toArray(String[]::new));
    assertThat(Benchmark.TRAIN_JVM_ARGS).contains("-Xmx1g").anyMatch(a -> a.startsWith("-Dorg.bytedeco.javacpp.maxbytes="));
    assertThat(Benchmark.SERVE_JVM_ARGS).anyMatch(a -> a.startsWith("-Xmx"));
  }

  @Test
  void parsesQuotedAndBareValuesAndSkipsComments() {
    assertThat(JvmEnv.parse("# note\n\nA=\"x y\"\nB=z\nnot a setting\n")).containsExactly(
        Map.entry("A", "x y"), Map.entry("B", "z"));
  }
}
