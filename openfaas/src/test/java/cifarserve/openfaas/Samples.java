package cifarserve.openfaas;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * CIFAR-10 test record 0 (a cat), as the raw 3072-byte record and as PNG, exported by the project's own
 * CLI ({@code cifar-serve data --export 0 [--raw]}), which also verifies the data set's checksums.
 */
final class Samples {
  static final Path ROOT = Path.of(System.getProperty("repo.root", "..")).toAbsolutePath().normalize();
  static final Path CLI_JAR = Path.of(System.getProperty("cifarserve.jar", ROOT.resolve("verticles/target/cifar-serve.jar").toString()));
  static final Path LOADTEST_JAR = Path.of(System.getProperty("loadtest.jar", ROOT.resolve("loadtest/target/cifar-loadtest.jar").toString()));
  static final Path DIR = ROOT.resolve("openfaas/target/junit/samples");
  /** What the CLI names the class of record 0 (its file name says it: test-00000-cat.png). */
  static final String LABEL = "cat";
  static final int INDEX = 3;

  private static byte[] raw;
  private static byte[] png;

  private Samples() {
  }

  static synchronized byte[] raw() {
    if (raw == null) {
      raw = export(true);
      assertThat(raw).as("a CIFAR-10 record: 32x32, R, G and B planes").hasSize(3072);
    }
    return raw;
  }

  static synchronized byte[] png() {
    if (png == null) {
      png = export(false);
    }
    return png;
  }

  static Path rawFile() {
    raw();
    return DIR.resolve("test-00000-" + LABEL + ".bin");
  }

  private static byte[] export(boolean rawRecord) {
    Path file = DIR.resolve("test-00000-" + LABEL + (rawRecord ? ".bin" : ".png"));
    try {
      if (!Files.isRegularFile(file)) {
        assertThat(CLI_JAR).as("the cifar-serve jar (mvn -B install -DskipTests at the root)").isRegularFile();
        Files.createDirectories(DIR);
        List<String> command = Stream.concat(Stream.of("java", "-jar", CLI_JAR.toString(), "data", "--export", "0",
            "--out", DIR.toString()), rawRecord ? Stream.of("--raw") : Stream.empty()).toList();
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(10, TimeUnit.MINUTES)).as("cifar-serve data --export").isTrue();
        assertThat(p.exitValue()).as("cifar-serve data --export 0: %s", out).isZero();
        assertThat(file).as("the export names record 0's class in its file name: %s", out).isRegularFile();
      }
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A 200 whose JSON names record 0's class (label and index). */
  static void assertCat(int status, String body) {
    assertThat(status).as("status of %s", body).isEqualTo(200);
    JsonObject answer = new JsonObject(body);
    assertThat(answer.getString("label")).as(body).isEqualTo(LABEL);
    assertThat(answer.getInteger("index")).as(body).isEqualTo(INDEX);
  }
}
