package cifarserve.loadtest.generator;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Tag;

@Tag("unit")
class AnswerIndexTest {
  @Test
  void readsTheTopLevelIndexWhereverItStands() {
    String probabilities = "{\"airplane\":0.024961928,\"cat\":0.9,\"index\":7}";
    assertThat(AnswerIndex.of(Buffer.buffer("{\"label\":\"cat\",\"index\":3,\"probabilities\":" + probabilities + "}")))
        .isEqualTo(3);
    // After a nested object that has an "index" of its own: only the top-level one counts.
    assertThat(AnswerIndex.of(Buffer.buffer("{\"probabilities\":" + probabilities + ",\"index\":5}"))).isEqualTo(5);
  }

  @Test
  void anythingElseIsUnreadable() {
    assertThat(AnswerIndex.of(Buffer.buffer("{\"label\":\"cat\"}"))).isNull();
    assertThat(AnswerIndex.of(Buffer.buffer("{\"index\":\"3\"}"))).isNull();
    assertThat(AnswerIndex.of(Buffer.buffer("{\"index\":3.5}"))).isNull();
    assertThat(AnswerIndex.of(Buffer.buffer("[3]"))).isNull();
    assertThat(AnswerIndex.of(Buffer.buffer("no json here"))).isNull();
    assertThat(AnswerIndex.of(Buffer.buffer("{\"index\":"))).isNull();
    assertThat(AnswerIndex.of(Buffer.buffer())).isNull();
    assertThat(AnswerIndex.of(null)).isNull();
  }
}
