package cifarserve.training;

import static org.assertj.core.api.Assertions.assertThat;

import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class NativeMemoryTest {

  @Test
  void mallocTrimIsReachableThroughTheBundledJavaCpp() {
    // Fails when a JavaCPP upgrade renames its private wrapper: trained nodes would then keep their freed pages.
    assertThat(NativeMemory.trimMalloc()).isTrue();
  }

  @Test
  void theTrainingThreadsWorkspacesAreDestroyed() {
    try (var ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(WorkspaceConfiguration.builder()
        .initialSize(16L << 20).build(), "training-test")) {
      Nd4j.create(DataType.FLOAT, 1024, 1024).assign(1);
    }
    assertThat(Nd4j.getWorkspaceManager().checkIfWorkspaceExists("training-test")).isTrue();

    NativeMemory.releaseAfterTraining();

    assertThat(Nd4j.getWorkspaceManager().checkIfWorkspaceExists("training-test")).isFalse();
  }

  @Test
  void arraysDroppedByARunLeaveTheResidentSet() {
    INDArray large = Nd4j.create(DataType.FLOAT, 64, 1024, 1024); // 256 MB, touched below
    large.assign(1);
    long held = Pointer.physicalBytes();
    large = null;

    // Deallocation follows the collection on ND4J's own threads: allow it a few rounds.
    for (int round = 0; round < 5 && held - Pointer.physicalBytes() < (128L << 20); round++) {
      NativeMemory.releaseAfterTraining();
    }

    assertThat(held - Pointer.physicalBytes()).isGreaterThan(128L << 20);
  }
}
