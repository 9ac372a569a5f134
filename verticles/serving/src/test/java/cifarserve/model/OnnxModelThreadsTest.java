package cifarserve.model;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** When a lane gets ONNX Runtime's own thread pool (0) and when the configured count. */
class OnnxModelThreadsTest {
  @Test
  void oneLaneOnEveryCpuOfTheHostUsesTheRuntimesOwnPool() {
    assertThat(OnnxModel.intraOpThreads(1, 2, 2, 2)).isZero();
  }

  @Test
  void otherwiseTheConfiguredCount() {
    assertThat(OnnxModel.intraOpThreads(2, 1, 2, 2)).as("two lanes").isEqualTo(1);
    assertThat(OnnxModel.intraOpThreads(1, 1, 2, 2)).as("fewer threads than CPUs").isEqualTo(1);
    assertThat(OnnxModel.intraOpThreads(1, 2, 2, 64)).as("a container's quota on a larger host").isEqualTo(2);
    assertThat(OnnxModel.intraOpThreads(1, 2, 2, -1)).as("host CPUs unknown").isEqualTo(2);
    assertThat(OnnxModel.intraOpThreads(1, 0, 1, 1)).as("at least one thread asked, then the same rule").isZero();
  }
}
