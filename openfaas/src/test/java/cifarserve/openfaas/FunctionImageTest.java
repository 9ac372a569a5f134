package cifarserve.openfaas;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.command.InspectImageResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The loaded image's configuration and size, without running it. */
class FunctionImageTest {
  /** The README's budget for the function image. */
  static final long MAX_IMAGE_MIB = 150;

  private final InspectImageResponse image = FunctionContainer.docker().inspectImageCmd(FunctionContainer.IMAGE).exec();

  @Test
  void runsAsUid12000AndServesWithNoArguments() {
    assertThat(image.getConfig().getUser()).isEqualTo("12000:12000");
    assertThat(image.getConfig().getCmd()).as("no CMD: the entrypoint alone starts function mode").isNullOrEmpty();
    List<String> entrypoint = List.of(image.getConfig().getEntrypoint());
    assertThat(entrypoint).contains("serve");
  }

  /** The words of a NAME="..." line of conf/jvm.env (the tests run in openfaas/). */
  private static List<String> jvmEnv(String name) throws IOException {
    Matcher line = Pattern.compile("(?m)^" + name + "=\"([^\"]*)\"").matcher(Files.readString(Path.of("../conf/jvm.env")));
    assertThat(line.find()).as(name + " in conf/jvm.env").isTrue();
    return java.util.Arrays.stream(line.group(1).trim().split("\\s+")).filter(w -> !w.isEmpty()).toList();
  }

  @Test
  void getsTheEngineEnvironmentButNotTheTrainingOne() throws IOException {
    List<String> env = List.of(image.getConfig().getEnv());
    assertThat(env).containsAll(jvmEnv("ENGINE_ENV"));
    // the function never trains: what only training needs would only cost it (conf/jvm.env's TRAIN_ENV)
    for (String pair : jvmEnv("TRAIN_ENV")) {
      String name = pair.substring(0, pair.indexOf('=') + 1);
      assertThat(env).noneMatch(e -> e.startsWith(name));
    }
  }

  @Test
  void imageStaysWithinItsSizeBudget() {
    long mib = image.getSize() / (1 << 20);
    System.out.printf("[container] image %s: %d MiB (budget %d MiB)%n", FunctionContainer.IMAGE, mib, MAX_IMAGE_MIB);
    assertThat(mib).isLessThanOrEqualTo(MAX_IMAGE_MIB);
  }
}
