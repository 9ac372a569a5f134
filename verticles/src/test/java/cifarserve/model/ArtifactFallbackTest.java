package cifarserve.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import cifarserve.TestModels;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A damaged newest artifact must not take the node down: the previous valid one serves. */
class ArtifactFallbackTest {
  @TempDir
  Path dir;

  private JsonObject copyAs(String version) throws Exception {
    JsonObject original = TestModels.metadata();
    Path zip = TestModels.repository().modelFile(ModelVersion.of(original));
    JsonObject meta = original.copy().put("version", version);
    Files.copy(zip, dir.resolve(version + ".zip"));
    Files.writeString(dir.resolve(version + ".json"), meta.encodePrettily());
    return meta;
  }

  /** A serving-only copy, as the function image holds it: the ONNX twin and the metadata, no zip. */
  private void copyOnnxOnlyAs(String version) throws Exception {
    JsonObject original = TestModels.metadata();
    ModelRepository shared = TestModels.repository();
    Files.copy(shared.onnxFile(ModelVersion.of(original)), dir.resolve(version + ".onnx"));
    Files.writeString(dir.resolve(version + ".json"), original.copy().put("version", version).encodePrettily());
  }

  @Test
  void truncatedNewestArtifactFallsBackToThePreviousOne() throws Exception {
    copyAs("cnn-20260101T000000Z-0001");
    copyAs("cnn-20260102T000000Z-0002");
    Path newest = dir.resolve("cnn-20260102T000000Z-0002.zip");
    byte[] bytes = Files.readAllBytes(newest);
    Files.write(newest, java.util.Arrays.copyOf(bytes, bytes.length / 2));

    ModelRepository repository = new ModelRepository(dir);
    assertThat(repository.newest().orElseThrow().getString("version")).isEqualTo("cnn-20260101T000000Z-0001");
    assertThat(repository.loadNewest().orElseThrow().version()).isEqualTo("cnn-20260101T000000Z-0001");
  }

  @Test
  void corruptBytesOfTheSameSizeAreCaughtByTheRecordedHash() throws Exception {
    copyAs("cnn-20260101T000000Z-0001");
    JsonObject newer = copyAs("cnn-20260102T000000Z-0002");
    Path zip = dir.resolve("cnn-20260102T000000Z-0002.zip");
    newer.put("sha256", ArtifactCheck.sha256(zip));
    Files.writeString(dir.resolve("cnn-20260102T000000Z-0002.json"), newer.encodePrettily());
    TestModels.flipOneByte(zip);

    assertThat(new ModelRepository(dir).newest().orElseThrow().getString("version")).isEqualTo("cnn-20260101T000000Z-0001");
  }

  @Test
  void leftoverTempFilesOfAKilledSaveAreRemovedButAFreshOneIsLeftAlone() throws Exception {
    copyAs("cnn-20260101T000000Z-0001");
    Path stale = Files.writeString(dir.resolve(".tmp-20260103-000000-x123.zip"), "half a zip");
    Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minusSeconds(3600)));
    Path fresh = Files.writeString(dir.resolve(".tmp-20260103-000001-x456.zip"), "being written now");

    assertThat(new ModelRepository(dir).list()).hasSize(1);
    assertThat(stale).doesNotExist();
    assertThat(fresh).exists();
  }

  @Test
  void aServingOnlyCopyWhoseNewestOnnxIsCorruptServesThePreviousOne() throws Exception {
    copyOnnxOnlyAs("cnn-20260101T000000Z-0001");
    copyOnnxOnlyAs("cnn-20260102T000000Z-0002");
    TestModels.flipOneByte(dir.resolve("cnn-20260102T000000Z-0002.onnx"));

    ArtifactStore store = new ArtifactStore(dir);
    JsonObject servable = store.newestServable().orElseThrow();
    assertThat(servable.getString("version")).isEqualTo("cnn-20260101T000000Z-0001");
    try (OnnxModel model = store.loadOnnx(servable, 1, 1)) {
      assertThat(model.version()).isEqualTo("cnn-20260101T000000Z-0001");
    }
    // Asked for by version (e.g. announced by the cluster), the damaged copy is not trusted: it is fetched again.
    assertThat(store.find(ModelVersion.parse("cnn-20260102T000000Z-0002"))).isEmpty();
  }

  @Test
  void aDiskFullDuringSaveLeavesNoPartialArtifact() throws Exception {
    copyAs("cnn-20260101T000000Z-0001");
    List<Path> before = listing();
    JsonObject newer = TestModels.metadata().put("version", "cnn-20260102T000000Z-0002");
    ArtifactStore store = new ArtifactStore(dir);
    // What a full disk does to the writer: part of the zip is written, then ENOSPC.
    assertThatThrownBy(() -> store.write(newer, new byte[] {1, 2, 3}, tmpModel -> {
      Files.write(tmpModel, new byte[4096]);
      throw new IOException("No space left on device");
    })).isInstanceOf(IOException.class).hasMessageContaining("No space left");

    assertThat(listing()).as("no temp file and no file of the failed version").isEqualTo(before);
    assertThat(store.newestServable()).isEmpty(); // the zip-only older copy has no ONNX twin
    assertThat(store.newest().orElseThrow().getString("version")).isEqualTo("cnn-20260101T000000Z-0001");
  }

  private List<Path> listing() throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(Path::getFileName).sorted().toList();
    }
  }
}
