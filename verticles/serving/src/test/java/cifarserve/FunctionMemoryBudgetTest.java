package cifarserve;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The function's JVM caps, as openfaas/build-image.sh writes them into the image, must keep its memory
 * under the container limit of openfaas/stack.yml with room for what no JVM flag caps: before the caps,
 * direct memory defaulted to the heap's size (2 + 2 GiB at 50 %), and the cgroup SIGKILLed the function
 * without a drain. The reserve is what bench/reliability.sh measured beyond the caps at 10x overload
 * (threads, GC, symbols and ONNX Runtime's native memory: ~130 MiB), with a wide margin.
 */
class FunctionMemoryBudgetTest {
  static final Path REPO = Path.of("../..");
  static final long RESERVE_MIB = 512;

  @Test
  void theImagesJvmCapsLeaveRoomForNativeMemoryUnderTheContainerLimit() throws IOException {
    String script = Files.readString(REPO.resolve("openfaas/build-image.sh"));
    Matcher block = Pattern.compile("(?ms)^JVM_FLAGS=\\((.*?)^\\)").matcher(script);
    assertThat(block.find()).as("JVM_FLAGS=( ... ) in build-image.sh").isTrue();
    String flags = block.group(1).replaceAll("#[^\\n]*", "");
    long limitMib = mib(find(Files.readString(REPO.resolve("openfaas/stack.yml")),
        "(?s)limits:.*?memory:\\s*(\\d+[GMgm]i)"));

    long heap = limitMib * Long.parseLong(find(flags, "-XX:MaxRAMPercentage=(\\d+)")) / 100;
    long direct = mib(find(flags, "-XX:MaxDirectMemorySize=(\\d+[gmGM])"));
    long metaspace = mib(find(flags, "-XX:MaxMetaspaceSize=(\\d+[gmGM])"));
    long codeCache = mib(find(flags, "-XX:ReservedCodeCacheSize=(\\d+[gmGM])"));

    assertThat(limitMib).isEqualTo(4096);
    assertThat(heap + direct + metaspace + codeCache + RESERVE_MIB)
        .as("heap %d + direct %d + metaspace %d + code cache %d + reserve %d MiB", heap, direct, metaspace, codeCache,
            RESERVE_MIB)
        .isLessThan(limitMib);
    assertThat(flags).contains("-XX:+ExitOnOutOfMemoryError");
  }

  private static String find(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertThat(m.find()).as("%s in the image's configuration", regex).isTrue();
    return m.group(1);
  }

  /** 256m, 1g, 4Gi, 512Mi in MiB. */
  private static long mib(String size) {
    long n = Long.parseLong(size.replaceAll("[^0-9]", ""));
    return Character.toLowerCase(size.replaceAll("[0-9]", "").charAt(0)) == 'g' ? n * 1024 : n;
  }
}
