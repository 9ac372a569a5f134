package cifarserve.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OrtSession;
import org.junit.jupiter.api.Test;

/** A lane's session: its threads sleep rather than spin while they wait (see {@link OnnxModel#sessionOptions}). */
class OnnxModelThreadsTest {
  @Test
  void intraOpThreadsDoNotSpin() throws Exception {
    try (OrtSession.SessionOptions options = OnnxModel.sessionOptions(2)) {
      assertThat(options.getConfigEntries()).containsEntry(OnnxModel.ALLOW_SPINNING, "0");
    }
  }
}
