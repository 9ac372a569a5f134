package cifarserve.openfaas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/** The OpenFaaS stacks parse and deploy the function as the study's t3.medium share (no Docker needed). */
class StackFilesTest {
  @SuppressWarnings("unchecked")
  static Map<String, Object> function(String stack) throws IOException {
    try (Reader in = Files.newBufferedReader(Samples.ROOT.resolve("openfaas").resolve(stack))) {
      Map<String, Object> root = new Yaml().load(in);
      return (Map<String, Object>) ((Map<String, Object>) root.get("functions")).get("cifar-serve");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"stack.yml", "stack-ce.yml"})
  void bothStacksDeployTheImageWithTheContractSettings(String stack) throws IOException {
    Map<String, Object> fn = function(stack);
    assertThat(fn.get("lang")).isEqualTo("dockerfile");
    assertThat(String.valueOf(fn.get("image"))).contains("cifar-serve-function");
    Map<String, String> share = Map.of("cpu", "2000m", "memory", "4Gi");
    assertThat(fn.get("limits")).as("limits: 2 vCPU / 4 GiB").isEqualTo(share);
    assertThat(fn.get("requests")).as("requests = limits").isEqualTo(share);
    assertThat(((Map<?, ?>) fn.get("environment")).keySet()).map(String::valueOf)
        .contains("read_timeout", "write_timeout", "exec_timeout", "max_inflight");
    assertThat(fn.get("readonly_root_filesystem")).isEqualTo(true);
  }

  @Test
  void proStackScalesToZero() throws IOException {
    Map<?, ?> labels = (Map<?, ?>) function("stack.yml").get("labels");
    assertThat(labels.get("com.openfaas.scale.zero")).isEqualTo("true");
    assertThat(labels.get("com.openfaas.scale.zero-duration")).isNotNull();
  }

  @Test
  void communityStackHasNoProLabelsAndAtMostFiveReplicas() throws IOException {
    Map<?, ?> labels = (Map<?, ?>) function("stack-ce.yml").get("labels");
    assertThat(labels.keySet()).noneMatch(k -> String.valueOf(k).startsWith("com.openfaas.scale.zero"));
    assertThat(Integer.parseInt(String.valueOf(labels.get("com.openfaas.scale.max")))).isBetween(1, 5);
  }
}
