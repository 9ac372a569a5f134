package cifarserve.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import cifarserve.Main;
import cifarserve.TestData;
import cifarserve.data.CifarImages;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The serving engine on the shipped model: equal to DL4J, checked before loading, safe across lanes and swaps. */
class OnnxModelTest {
  static final ModelRepository SHIPPED = new ModelRepository(Path.of("..", "models"));

  @TempDir
  Path tmp;

  static JsonObject shippedMetadata() throws IOException {
    return SHIPPED.newestServable().orElseThrow();
  }

  /** The shipped artifact's three files copied into {@code dir}. */
  static JsonObject copyShipped(Path dir) throws IOException {
    JsonObject metadata = shippedMetadata();
    ModelVersion version = ModelVersion.of(metadata);
    for (Path file : List.of(SHIPPED.modelFile(version), SHIPPED.onnxFile(version), SHIPPED.metadataFile(version))) {
      Files.copy(file, dir.resolve(file.getFileName()));
    }
    return metadata;
  }

  @Test
  void servedAnswersEqualDl4jsOnRealTestImages() throws Exception {
    Main.enableEngineHelpers();
    JsonObject metadata = shippedMetadata();
    LoadedModel dl4j = SHIPPED.load(metadata);
    CifarImages images = TestData.testImages().limit(256);
    try (OnnxModel onnx = SHIPPED.loadOnnx(metadata, 1, 2)) {
      FloatBuffer lane = OnnxModel.inputBuffer(64);
      double worst = 0;
      for (int from = 0; from < images.size(); from += 64) {
        lane.clear();
        OnnxModel.putUnitPixels(images.pixels(), from * CifarImages.PIXELS_PER_IMAGE, 64 * CifarImages.PIXELS_PER_IMAGE,
            lane);
        float[][] served = onnx.predict(0, lane, 64);
        float[][] expected = dl4j.predict(Normalization.fromBytes(images.pixels(), from, 64), 64);
        for (int i = 0; i < 64; i++) {
          for (int k = 0; k < expected[i].length; k++) {
            worst = Math.max(worst, Math.abs(served[i][k] - expected[i][k]));
          }
        }
      }
      assertThat(worst).isLessThanOrEqualTo(OnnxVerification.TOLERANCE);
    }
  }

  @Test
  void lanesReuseTheirBuffersAndAnswerAsAFreshCallDoes() throws Exception {
    CifarImages test = TestData.testImages();
    int images = 40;
    try (OnnxModel model = SHIPPED.loadOnnx(shippedMetadata(), 2, 1)) {
      assertThat(model.lanes()).isEqualTo(2);
      float[][] expected = new float[images][];
      for (int i = 0; i < images; i++) {
        expected[i] = model.predictBytes(test.pixels(), i, 1)[0];
      }
      // Both lanes at once, each refilling its one buffer with batches of changing size in its own order:
      // a buffer shared or read past the batch would mix images into the wrong answers.
      ExecutorService threads = Executors.newFixedThreadPool(2);
      try {
        List<Future<float[][]>> results = new ArrayList<>();
        for (int lane = 0; lane < 2; lane++) {
          int index = lane;
          int[] sizes = lane == 0 ? new int[] {1, 7, 32} : new int[] {32, 1, 7};
          results.add(threads.submit(() -> {
            FloatBuffer buffer = OnnxModel.inputBuffer(32);
            float[][] rows = new float[images][];
            for (int size : sizes) {
              for (int from = 0; from < images; from += size) {
                int count = Math.min(size, images - from);
                buffer.clear();
                OnnxModel.putUnitPixels(test.pixels(), from * CifarImages.PIXELS_PER_IMAGE,
                    count * CifarImages.PIXELS_PER_IMAGE, buffer);
                System.arraycopy(model.predict(index, buffer, count), 0, rows, from, count);
              }
            }
            return rows;
          }));
        }
        for (Future<float[][]> result : results) {
          float[][] rows = result.get(60, TimeUnit.SECONDS);
          for (int i = 0; i < images; i++) {
            for (int k = 0; k < rows[i].length; k++) {
              assertThat(rows[i][k]).as("image %d class %d", i, k).isCloseTo(expected[i][k], within(1e-5f));
            }
          }
        }
      } finally {
        threads.shutdownNow();
      }
    }
  }

  @Test
  void anOnnxFileThatDiffersFromItsRecordedHashIsRefused() throws Exception {
    JsonObject metadata = copyShipped(tmp);
    ModelRepository repository = new ModelRepository(tmp);
    Path onnx = repository.onnxFile(ModelVersion.of(metadata));
    byte[] bytes = Files.readAllBytes(onnx);
    bytes[bytes.length / 2] ^= 0x01; // one bit of one weight
    Files.write(onnx, bytes);
    assertThatThrownBy(() -> repository.loadOnnx(metadata, 1, 1))
        .isInstanceOf(IOException.class).hasMessageContaining("SHA-256").hasMessageContaining("refused");
  }

  @Test
  void anArtifactWithoutAnOnnxTwinIsSkippedAndRefusedWithTheCommandThatConvertsIt() throws Exception {
    JsonObject shipped = copyShipped(tmp);
    ModelRepository repository = new ModelRepository(tmp);
    // newer, but written as older versions of the service did: zip and metadata only
    JsonObject older = new JsonObject().put("version", "cnn-29990101T000000Z-0001");
    repository.save(CifarCnn.newNetwork(1), older);
    assertThat(repository.newest().orElseThrow().getString("version")).isEqualTo("cnn-29990101T000000Z-0001");
    assertThat(repository.newestServable().orElseThrow().getString("version")).isEqualTo(shipped.getString("version"));
    assertThatThrownBy(() -> repository.loadOnnx(older, 1, 1))
        .isInstanceOf(IOException.class).hasMessageContaining("cifar-serve export cnn-29990101T000000Z-0001");
  }

  @Test
  void aServingOnlyCopyWithoutTheDl4jZipIsServed() throws Exception {
    JsonObject metadata = shippedMetadata();
    ModelVersion version = ModelVersion.of(metadata);
    for (Path file : List.of(SHIPPED.onnxFile(version), SHIPPED.metadataFile(version))) { // as the function image holds it
      Files.copy(file, tmp.resolve(file.getFileName()));
    }
    ArtifactStore store = new ArtifactStore(tmp);
    assertThat(store.newestServable().orElseThrow().getString("version")).isEqualTo(version.toString());
    try (OnnxModel model = store.loadOnnx(metadata, 1, 1)) {
      assertThat(model.predictBytes(TestData.testImages().pixels(), 0, 1)[0]).hasSize(10);
    }
    // metadata alone is not an artifact
    Files.delete(store.onnxFile(version));
    assertThat(store.newestServable()).isEmpty();
  }

  @Test
  void aRetiredModelStaysUsableUntilItsLastBatchReleasesIt() throws Exception {
    OnnxModel model = SHIPPED.loadOnnx(shippedMetadata(), 1, 1);
    byte[] pixels = TestData.testImages().pixels();
    float[] before = model.predictBytes(pixels, 0, 1)[0];
    assertThat(model.retain()).isTrue(); // a batch in flight
    model.retire(); // replaced meanwhile
    assertThat(model.predictBytes(pixels, 0, 1)[0]).isEqualTo(before);
    model.release(); // the batch ends: now the sessions are closed
    assertThat(model.retain()).as("a closed model cannot be taken again").isFalse();
  }
}
