package cifarserve.training;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.FloatBuffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.random.impl.DropOutInverted;
import org.nd4j.linalg.api.rng.Random;
import org.nd4j.linalg.factory.Nd4j;

class DropoutMasksTest {

  @ParameterizedTest(name = "{0} elements, retain {1}")
  @CsvSource({"1, 0.75", "7, 0.5", "16384, 0.75", "40003, 0.5", "100000, 0.3", "65536, 0.999"})
  void masksAndStreamStateAreTheOpsBitForBit(int length, float retain) throws Exception {
    try (Random opStream = Nd4j.getRandomFactory().getNewRandomInstance(1234);
        Random ownStream = Nd4j.getRandomFactory().getNewRandomInstance(1234)) {
      for (int round = 0; round < 3; round++) { // consecutive masks: the state moves on the same way
        INDArray expected = Nd4j.ones(DataType.FLOAT, length);
        Nd4j.getExecutioner().exec(new DropOutInverted(expected, expected, retain), opStream);
        FloatBuffer own = FloatBuffer.allocate(length);
        DropoutMasks.fill(own, length, retain, ownStream);

        assertThat(own.array()).isEqualTo(expected.toFloatVector());
        assertThat(ownStream.nodeState()).isEqualTo(opStream.nodeState());
        assertThat(ownStream.rootState()).isEqualTo(opStream.rootState());
      }
    }
  }

  @Test
  void keepsAboutRetainOfTheElementsScaledByItsInverse() throws Exception {
    int length = 200_000;
    FloatBuffer mask = FloatBuffer.allocate(length);
    try (Random stream = Nd4j.getRandomFactory().getNewRandomInstance(7)) {
      long nodeBefore = stream.nodeState();
      DropoutMasks.fill(mask, length, 0.75f, stream);
      assertThat(stream.nodeState()).isNotEqualTo(nodeBefore);
    }
    int kept = 0;
    for (float value : mask.array()) {
      assertThat(value).isIn(0f, 1f / 0.75f);
      kept += value == 0f ? 0 : 1;
    }
    assertThat(kept / (double) length).isBetween(0.745, 0.755);
  }

  @Test
  void theSelfCheckPassesOnThisNd4j() {
    assertThat(DropoutMasks.matchesNd4j()).isTrue();
  }

  @Test
  void dropThresholdSplitsAtRetain() {
    int threshold = DropoutMasks.dropThreshold(0.75f);
    assertThat(Float.intBitsToFloat(0x3f800000 | threshold) - 1f).isGreaterThanOrEqualTo(0.75f);
    assertThat(Float.intBitsToFloat(0x3f800000 | (threshold - 1)) - 1f).isLessThan(0.75f);
  }
}
