package cifarserve.openfaas;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The project's load tester (loadtest/target/cifar-loadtest.jar) run against a function container. */
final class LoadTester {
  private LoadTester() {
  }

  /** Classifies test record 0 (raw) at {@code fn} with the given options; returns its JSON report. */
  static JsonObject run(FunctionContainer fn, String name, String... options) throws Exception {
    assertThat(Samples.LOADTEST_JAR).as("the load tester jar (mvn -B install -DskipTests at the root)").isRegularFile();
    Path json = Samples.DIR.resolve(name + ".json");
    Files.deleteIfExists(json);
    List<String> command = new ArrayList<>(List.of("java", "-jar", Samples.LOADTEST_JAR.toString(), "-q"));
    command.addAll(List.of(options));
    command.addAll(List.of("-p", Samples.rawFile().toString(), "-T", "application/octet-stream", "--json", json.toString(),
        fn.url("/v1/classify")));
    Path log = Samples.DIR.resolve(name + ".txt");
    Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    assertThat(p.waitFor(5, TimeUnit.MINUTES)).as("the load tester finished").isTrue();
    assertThat(p.exitValue()).as("load tester exit: %s", Files.readString(log)).isZero();
    return new JsonObject(Files.readString(json));
  }

  static long sent(JsonObject report) {
    return report.getJsonObject("requests").getLong("sent");
  }

  static long ok(JsonObject report) {
    Long ok = report.getJsonObject("requests").getJsonObject("statusCodes").getLong("200");
    return ok == null ? 0 : ok;
  }
}
