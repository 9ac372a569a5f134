package cifarserve;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Tag;

/** The line the experiment parses (loadtest's Container): three epoch-ms marks in the order they happened. */
@Tag("unit")
class StartupMarksTest {
  @Test
  void processStartPrecedesMainWhichPrecedesListening() {
    StartupMarks.mainReached();
    Matcher m = Pattern.compile("^startup marks \\(epoch ms\\): process (\\d+), main (\\d+), listening (\\d+)$")
        .matcher(StartupMarks.line());

    assertThat(m.matches()).isTrue();
    long process = Long.parseLong(m.group(1));
    long main = Long.parseLong(m.group(2));
    long listening = Long.parseLong(m.group(3));
    assertThat(process).isPositive().isLessThanOrEqualTo(main);
    assertThat(main).isLessThanOrEqualTo(listening);
    assertThat(listening - process).isLessThan(3_600_000);
  }
}
