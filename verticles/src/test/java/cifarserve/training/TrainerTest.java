package cifarserve.training;

import static org.assertj.core.api.Assertions.assertThat;

import cifarserve.TestData;
import cifarserve.TestModels;
import cifarserve.data.CifarImages;
import cifarserve.model.ModelRepository;
import cifarserve.model.ModelVersion;
import cifarserve.model.OnnxVerification;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TrainerTest {
  @Test
  void shortRealTrainingIsClearlyAboveChanceOnHeldOutImages() {
    JsonObject metadata = TestModels.metadata();
    // 10 classes: chance is 10 %. 2 epochs over 4,000 real images reach well above it on 1,000
    // test images the network never saw (the test batch is disjoint from the training batches).
    assertThat(metadata.getDouble("accuracy")).isGreaterThan(0.25);
    assertThat(metadata.getInteger("testImages")).isEqualTo(TestModels.TEST_IMAGES);
    assertThat(metadata.getInteger("trainImages")).isEqualTo(TestModels.TRAIN_IMAGES);
    assertThat(metadata.getLong("imagesTrainedOn")).isEqualTo((long) TestModels.TRAIN_IMAGES * TestModels.EPOCHS);
    assertThat(metadata.getJsonObject("dataChecksums").getString("test_batch.bin"))
        .isEqualTo("803d5f7f4d78ea53de84dbe85f74fb6d");
    assertThat(metadata.getJsonObject("libraries").getString("dl4j")).isEqualTo("1.0.0-M2.1");
    assertThat(metadata.getDouble("trainingSeconds")).isPositive();
  }

  /**
   * A budget that ends part-way through a pass (the from-nothing default can be sized to a time): 1.5
   * epochs of 10 minibatches are 15, the schedule reaches its end on the last one, and the artifact
   * records the fraction and the images actually trained on.
   */
  @Test
  void aFractionalBudgetStopsPartWayThroughItsLastPass(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws java.io.IOException {
    cifarserve.Main.enableEngineHelpers();
    TrainingOptions options = TrainingOptions.fromJson(new JsonObject().put("epochs", 1.5).put("trainLimit", 640)
        .put("testLimit", 256).put("batchSize", 64).put("warmupEpochs", 0.2), "test");
    java.util.List<TrainingProgress> seen = new java.util.ArrayList<>();
    JsonObject metadata = new Trainer(TestData.dataset(), new cifarserve.model.ModelRepository(dir))
        .train(options, seen::add, () -> false).model().metadata();

    assertThat(metadata.getValue("epochs")).isEqualTo(1.5);
    assertThat(metadata.getLong("imagesTrainedOn")).isEqualTo(960);
    var curve = metadata.getJsonArray("curve");
    assertThat(curve.size()).isEqualTo(2);
    assertThat(curve.getJsonObject(0).getValue("epoch")).isEqualTo(1);
    assertThat(curve.getJsonObject(1).getValue("epoch")).isEqualTo(1.5);
    // The cosine ends at the last of the 15 minibatches, not at the end of a second whole pass.
    assertThat(curve.getJsonObject(1).getDouble("learningRate")).isZero();
    assertThat(curve.getJsonObject(0).getDouble("learningRate")).isPositive();
    TrainingProgress lastTraining = seen.stream().filter(p -> TrainingProgress.TRAINING.equals(p.state()))
        .reduce((a, b) -> b).orElseThrow();
    assertThat(lastTraining.epoch()).isEqualTo(2);
    assertThat(lastTraining.batch()).isEqualTo(5);
    assertThat(lastTraining.fraction()).isEqualTo(1.0);
    assertThat(lastTraining.toLine()).startsWith("epoch 2/1.5  batch 5/10");
  }

  @Test
  void theRecordedAccuracyIsTheServedOnnxFilesAndDl4jAgreesWithIt() throws Exception {
    ModelRepository repository = TestModels.repository();
    JsonObject metadata = TestModels.metadata();
    CifarImages test = TestData.testImages().limit(TestModels.TEST_IMAGES);
    byte[] onnx = Files.readAllBytes(repository.onnxFile(ModelVersion.of(metadata)));
    Evaluation served = Evaluation.of(OnnxVerification.onnxOutput(onnx, test), test);
    assertThat(metadata.getInteger("correct")).isEqualTo(served.correct());
    assertThat(metadata.getString("evaluatedWith")).isEqualTo("ONNX Runtime");
    assertThat(metadata.getJsonObject("onnxVerification").getInteger("testImages"))
        .isEqualTo(OnnxArtifacts.VERIFICATION_IMAGES);
    // the two engines agree to 1e-4 on every probability: only a near-tie can flip an answer
    Evaluation dl4j = Evaluation.of(repository.load(metadata), test);
    assertThat(Math.abs(dl4j.correct() - served.correct())).isLessThanOrEqualTo(test.size() / 200);
  }

  @Test
  void mirrorFlipsEveryRowOfEveryChannel() {
    byte[] image = TestData.testImages().image(0);
    byte[] flipped = image.clone();
    Minibatches.mirror(flipped, 0);
    for (int c = 0; c < 3; c++) {
      for (int y = 0; y < 32; y++) {
        for (int x = 0; x < 32; x++) {
          assertThat(flipped[c * 1024 + y * 32 + x]).isEqualTo(image[c * 1024 + y * 32 + (31 - x)]);
        }
      }
    }
  }

  @Test
  void batchesHoldOneHotLabelsOfTheShuffledImages() {
    CifarImages images = TestData.testImages().limit(100);
    int[] order = Minibatches.shuffledIndices(100, new Random(1));
    assertThat(order).containsExactlyInAnyOrder(java.util.stream.IntStream.range(0, 100).toArray());
    var batch = Minibatches.batch(images, order, 96, 64, false, 0, new Random(2));
    assertThat(batch.numExamples()).isEqualTo(4);
    assertThat(batch.getFeatures().shape()).containsExactly(4, 3, 32, 32);
    for (int i = 0; i < 4; i++) {
      assertThat(batch.getLabels().getRow(i).argMax().getInt(0)).isEqualTo(images.label(order[96 + i]));
      assertThat(batch.getLabels().getRow(i).sumNumber().doubleValue()).isEqualTo(1.0);
    }
  }
}
