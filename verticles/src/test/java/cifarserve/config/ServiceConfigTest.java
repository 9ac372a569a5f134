package cifarserve.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServiceConfigTest {
  @TempDir
  Path tmp;

  @Test
  void fileOverridesDefaultsAndEnvironmentOverridesFile() throws Exception {
    Path file = tmp.resolve("conf.json");
    Files.writeString(file, "{\"http\": {\"port\": 9000}, \"modelDir\": \"from-file\", \"trainOnStart\": true}");
    JsonObject config = ServiceConfig.load(file, Map.of("HTTP_PORT", "9100", "TRAIN_ON_START", "false",
        "CIFAR_DIR", "/data/cifar", "max_inflight", "8", "write_timeout", "1m30s"));
    assertThat(config.getJsonObject("http").getInteger("port")).isEqualTo(9100);
    assertThat(config.getJsonObject("http").getString("host")).isEqualTo("127.0.0.1");
    assertThat(config.getString("modelDir")).isEqualTo("from-file");
    assertThat(config.getBoolean("trainOnStart")).isFalse();
    assertThat(config.getString("cifarDir")).isEqualTo("/data/cifar");
    assertThat(config.getJsonObject("function").getInteger("maxInflight")).isEqualTo(8);
    assertThat(config.getJsonObject("function").getLong("writeTimeoutMs")).isEqualTo(90_000L);
  }

  @Test
  void shippedConfigFilesParse() {
    for (String name : new String[] {"local.json", "openfaas.json", "ec2.json"}) {
      Path file = Path.of("..", "conf", name);
      if (Files.exists(file)) {
        JsonObject config = ServiceConfig.load(file, Map.of());
        assertThat(config.getJsonObject("http").getInteger("port")).as(name).isEqualTo(8080);
      }
    }
  }

  @Test
  void badValuesAreExplained() {
    assertThatThrownBy(() -> ServiceConfig.load(null, Map.of("HTTP_PORT", "eighty")))
        .hasMessageContaining("HTTP_PORT=eighty");
    assertThatThrownBy(() -> ServiceConfig.load(null, Map.of("TRAIN_ON_START", "maybe")))
        .hasMessageContaining("TRAIN_ON_START");
  }

  @Test
  void goDurationsAsOpenFaasWritesThem() {
    assertThat(ServiceConfig.parseDurationMillis("10s")).isEqualTo(10_000);
    assertThat(ServiceConfig.parseDurationMillis("500ms")).isEqualTo(500);
    assertThat(ServiceConfig.parseDurationMillis("2m")).isEqualTo(120_000);
    assertThat(ServiceConfig.parseDurationMillis("1h")).isEqualTo(3_600_000);
    assertThat(ServiceConfig.parseDurationMillis("30")).isEqualTo(30_000);
    assertThatThrownBy(() -> ServiceConfig.parseDurationMillis("10 s")).isInstanceOf(IllegalArgumentException.class);
  }
}
