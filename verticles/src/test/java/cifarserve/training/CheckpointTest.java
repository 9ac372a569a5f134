package cifarserve.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import cifarserve.TestData;
import cifarserve.data.CifarImages;
import cifarserve.model.CifarCnn;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {
  @TempDir
  Path dir;

  @Test
  void aCheckpointRestoresWeightsMomentumAndSchedulePosition() throws IOException {
    TrainingOptions options = TrainingOptions.fromJson(new JsonObject().put("epochs", 3), "test");
    var schedule = Trainer.learningRate(options, 640);
    MultiLayerNetwork trained = CifarCnn.newNetwork(1, schedule);
    CifarImages images = TestData.testImages().limit(64);
    int[] order = Minibatches.shuffledIndices(64, new Random(1));
    for (int i = 0; i < 3; i++) {
      trained.fit(Minibatches.batch(images, order, 0, 32, true, 4, new Random(i)));
    }
    Path file = dir.resolve("run.ckpt");
    Checkpoint state = new Checkpoint(1, trained.getIterationCount(), 12.5, options.toJson(), "cmd",
        new JsonArray().add(new JsonObject().put("epoch", 1)));
    Checkpoint.write(file, trained, state);

    Checkpoint read = Checkpoint.read(file);
    assertThat(read).isEqualTo(state);
    MultiLayerNetwork restored = CifarCnn.newNetwork(99, schedule);
    read.restoreInto(file, restored);
    assertThat(restored.params()).isEqualTo(trained.params());
    assertThat(restored.getUpdater().getStateViewArray()).isEqualTo(trained.getUpdater().getStateViewArray());
    assertThat(restored.getIterationCount()).isEqualTo(3);
    assertThat(Files.list(dir)).containsExactly(file); // no temp file left behind
  }

  @Test
  void aFileThatIsNoCheckpointIsRefusedWithItsName() throws IOException {
    Path file = Files.writeString(dir.resolve("junk.ckpt"), "not a zip");
    assertThatThrownBy(() -> Checkpoint.read(file)).isInstanceOf(IOException.class).hasMessageContaining("junk.ckpt");
  }
}
