package cifarserve.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import cifarserve.TestData;
import cifarserve.data.CifarImages;
import cifarserve.inference.Predictions;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class OnnxExportTest {
  @TempDir
  Path tmp;

  @Test
  void theShippedOnnxAnswersAsDl4jDoesOnRealTestImages() throws Exception {
    ModelRepository shipped = new ModelRepository(Path.of("..", "models"));
    JsonObject metadata = shipped.newest().orElseThrow();
    ModelVersion version = ModelVersion.of(metadata);
    Path onnxFile = shipped.onnxFile(version);
    assertThat(metadata.getJsonObject("onnx").getString("sha256")).isEqualTo(ArtifactCheck.sha256(onnxFile));
    assertThat(metadata.getString("sha256")).isEqualTo(ArtifactCheck.sha256(shipped.modelFile(version)));

    CifarImages images = TestData.testImages().limit(512);
    LoadedModel model = shipped.load(metadata);
    OnnxVerification.Report report = OnnxVerification.verify(Files.readAllBytes(onnxFile), model.network(), images);
    assertThat(report.images()).isEqualTo(512);
    assertThat(report.maxAbsDifference()).isLessThanOrEqualTo(OnnxVerification.TOLERANCE);
    // and it classifies: the same top class as DL4J on (nearly) every image, better than chance overall
    float[][] onnx = OnnxVerification.onnxOutput(Files.readAllBytes(onnxFile), images);
    int correct = 0;
    for (int i = 0; i < images.size(); i++) {
      correct += Predictions.argMax(onnx[i]) == images.label(i) ? 1 : 0;
    }
    assertThat(correct / (double) images.size()).isGreaterThan(0.65);
  }

  @Test
  void aWrongWeightLayoutIsCaughtAndNothingIsPublished() throws Exception {
    MultiLayerNetwork network = CifarCnn.newNetwork(3);
    byte[] onnx = OnnxExport.toOnnx(network, "v");
    // the same network with its dense weights permuted: DL4J now answers differently from the export
    INDArray dense = network.getLayer(6).getParam("W");
    dense.assign(Nd4j.reverse(dense.dup()));
    CifarImages images = TestData.testImages().limit(OnnxVerification.MIN_IMAGES);
    assertThatThrownBy(() -> OnnxVerification.verify(onnx, network, images))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("not published");
    assertThat(OnnxVerification.verify(OnnxExport.toOnnx(network, "v"), network, images).maxAbsDifference())
        .isLessThanOrEqualTo(OnnxVerification.TOLERANCE);
  }

  @Test
  void savingWritesTheOnnxTwinWithChecksums() throws Exception {
    ModelRepository repository = new ModelRepository(tmp);
    MultiLayerNetwork network = CifarCnn.newNetwork(4);
    byte[] onnx = OnnxExport.toOnnx(network, "cnn-20260101T000000Z-0003");
    repository.save(network, onnx, new JsonObject().put("version", "cnn-20260101T000000Z-0003"));
    JsonObject saved = repository.newest().orElseThrow();
    assertThat(Files.readAllBytes(repository.onnxFile(ModelVersion.parse("cnn-20260101T000000Z-0003")))).isEqualTo(onnx);
    assertThat(saved.getJsonObject("onnx").getString("sha256"))
        .isEqualTo(ArtifactCheck.sha256(repository.onnxFile(ModelVersion.parse("cnn-20260101T000000Z-0003"))));
    assertThat(saved.getString("sha256"))
        .isEqualTo(ArtifactCheck.sha256(repository.modelFile(ModelVersion.parse("cnn-20260101T000000Z-0003"))));
    assertThat(Files.list(tmp).filter(p -> p.getFileName().toString().startsWith(".tmp"))).isEmpty();
  }
}
