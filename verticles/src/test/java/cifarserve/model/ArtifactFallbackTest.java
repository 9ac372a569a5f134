package cifarserve.model;

import static org.assertj.core.api.Assertions.assertThat;

import cifarserve.TestModels;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
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
    byte[] bytes = Files.readAllBytes(zip);
    bytes[bytes.length / 3] ^= 0x5a;
    Files.write(zip, bytes);

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
}
