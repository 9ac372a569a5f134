package cifarserve.openfaas;

import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.command.InspectImageResponse;
import java.util.List;
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

  @Test
  void imageStaysWithinItsSizeBudget() {
    long mib = image.getSize() / (1 << 20);
    System.out.printf("[container] image %s: %d MiB (budget %d MiB)%n", FunctionContainer.IMAGE, mib, MAX_IMAGE_MIB);
    assertThat(mib).isLessThanOrEqualTo(MAX_IMAGE_MIB);
  }
}
