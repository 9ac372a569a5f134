package cifarserve.common;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class ProcStatsTest {
  @Test
  void statParsingSurvivesAWeirdCommandName() {
    String stat = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 100 1000 200";
    // utime 250 + stime 50 ticks at 100 ticks/s = 3 s
    assertThat(ProcStats.cpuSecondsOf(stat)).isBetween(2.99, 3.01);
  }

  @Test
  void statusFieldsAreReadInBytesAndAbsentOnesAreMinusOne() {
    String status = "Name:\tx\nVmHWM:\t  4096 kB\nVmRSS:\t  2048 kB\nThreads: 1\n";
    assertThat(ProcStats.statusBytes(status, "VmRSS")).isEqualTo(2048L * 1024);
    assertThat(ProcStats.statusBytes(status, "VmHWM")).isEqualTo(4096L * 1024);
    assertThat(ProcStats.statusBytes("Name:\tzombie\n", "VmRSS")).isEqualTo(-1);
  }

  @Test
  void thisProcessIsReadableAndAMissingOneIsNot() {
    ProcStats.Memory self = ProcStats.memory("self");
    assertThat(self.rssMb()).isPositive();
    assertThat(self.peakBytes()).isGreaterThanOrEqualTo(self.rssBytes());
    assertThat(ProcStats.cpuSeconds("self")).isPositive();
    assertThat(ProcStats.memory("999999999").rssBytes()).isEqualTo(-1);
    assertThat(ProcStats.cpuSeconds("999999999")).isEqualTo(-1);
    assertThat(ProcStats.loadAverage()).hasSize(3);
  }
}
