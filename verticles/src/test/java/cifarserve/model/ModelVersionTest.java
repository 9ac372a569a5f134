package cifarserve.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import cifarserve.cluster.ClusterDispatch;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Tag;

/** Version ids as an attacker would write them: refused at every boundary (parse, files, map, headers). */
@Tag("unit")
class ModelVersionTest {
  private static final String VALID = "cnn-20261130T105851Z-9e31";

  @TempDir
  Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"", "zzz", "cnn-99999999T999999Z-ffff-extra", "../cnn-20261130T105851Z-9e31",
      "cnn-20261130T105851Z-9e31/..", "cnn-20261130T105851Z/../x", "cnn-20261130T105851Z-9E31",
      "cnn-20261130T105851Z-9e3", "cnn-20261130T105851Z-9e31\n", " cnn-20261130T105851Z-9e31",
      "cnn-2026113oT105851Z-9e31", "cnn-20261130T105851Z-9e31\u0000", "/etc/passwd", "..", "C:\\models\\x",
      "cnn-20261130T105851Z-9e/1", "cnn-20261130T105851Z-..31", "cnn-٢٠٢٦١١٣٠T105851Z-9e31"})
  void hostileIdsAreRefused(String id) {
    assertThat(ModelVersion.isValid(id)).isFalse();
    assertThatThrownBy(() -> ModelVersion.parse(id)).isInstanceOf(ModelVersion.InvalidModelVersion.class);
  }

  @Test
  void aHugeIdIsRefusedAndNotEchoedWhole() {
    String huge = "cnn-" + "9".repeat(1_000_000);
    assertThatThrownBy(() -> ModelVersion.parse(huge))
        .isInstanceOf(ModelVersion.InvalidModelVersion.class)
        .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(100));
  }

  @Test
  void nonStringOrMissingVersionsAreRefused() {
    assertThatThrownBy(() -> ModelVersion.of(new JsonObject())).isInstanceOf(ModelVersion.InvalidModelVersion.class);
    assertThatThrownBy(() -> ModelVersion.of(new JsonObject().put("version", 20261130)))
        .isInstanceOf(ModelVersion.InvalidModelVersion.class);
    assertThatThrownBy(() -> ModelVersion.of(null)).isInstanceOf(ModelVersion.InvalidModelVersion.class);
  }

  @Test
  void anIdOfATimeThatDoesNotExistIsRefused() {
    // The right shape, but month 13 / hour 25: no real model was issued then (and it would sort after them).
    assertThat(ModelVersion.isValid("cnn-20261301T105851Z-9e31")).isFalse();
    assertThat(ModelVersion.isValid("cnn-20261130T255851Z-9e31")).isFalse();
    assertThat(ModelVersion.isValid("cnn-99991231T235959Z-ffff")).isTrue();
  }

  @Test
  void versionsIssuedAfterAFloorOrderAfterItWhateverTheClock() {
    ModelVersion current = ModelVersion.parse(VALID); // 2026-11-30T10:58:51Z
    Instant behind = Instant.parse("2026-01-01T00:00:00Z");
    Instant sameSecond = Instant.parse("2026-11-30T10:58:51.900Z");
    Instant ahead = Instant.parse("2026-12-01T00:00:00Z");
    assertThat(ModelVersion.next(behind).isNewerThan(current)).isFalse();
    for (Instant now : List.of(behind, sameSecond)) {
      ModelVersion issued = ModelVersion.nextAfter(now, current);
      assertThat(issued.isNewerThan(current)).as("clock %s", now).isTrue();
      assertThat(issued.issuedAt()).isEqualTo(Instant.parse("2026-11-30T10:58:52Z"));
    }
    assertThat(ModelVersion.nextAfter(ahead, current).issuedAt()).isEqualTo(ahead);
    assertThat(ModelVersion.nextAfter(behind, null).issuedAt()).isEqualTo(behind);
  }

  @Test
  void issuedIdsParseAndOrderByTime() {
    ModelVersion earlier = ModelVersion.next(Instant.parse("2026-11-30T10:58:51Z"));
    ModelVersion later = ModelVersion.next(Instant.parse("2026-11-30T10:58:52Z"));
    assertThat(ModelVersion.parse(earlier.toString())).isEqualTo(earlier);
    assertThat(earlier.toString()).startsWith("cnn-20261130T105851Z-").hasSize(ModelVersion.LENGTH);
    assertThat(later.isNewerThan(earlier)).isTrue();
    assertThat(ModelVersion.parse(VALID).fileName(".zip")).isEqualTo(VALID + ".zip");
    assertThat(ModelVersion.parse(VALID).mapKey("artifact")).isEqualTo("artifact:" + VALID);
  }

  @Test
  void aRepositoryNeverWritesOrListsAHostileVersion() throws Exception {
    Path models = Files.createDirectories(dir.resolve("models"));
    ModelRepository repository = new ModelRepository(models);
    JsonObject escape = new JsonObject().put("version", "../escaped");
    assertThatThrownBy(() -> repository.saveBytes(new byte[] {1}, new byte[] {2}, escape))
        .isInstanceOf(ModelVersion.InvalidModelVersion.class);
    assertThat(dir.resolve("escaped.zip")).doesNotExist();
    assertThat(dir.resolve("escaped.json")).doesNotExist();

    // Files planted on disk: a "zzz" that would outrank every version, and a valid id under another name.
    Files.write(models.resolve("zzz.zip"), new byte[] {1});
    Files.writeString(models.resolve("zzz.json"), new JsonObject().put("version", "zzz").encode());
    Files.write(models.resolve("cnn-20990101T000000Z-0000.zip"), new byte[] {1});
    Files.writeString(models.resolve("other.json"),
        new JsonObject().put("version", "cnn-20990101T000000Z-0000").encode());
    assertThat(repository.list()).isEmpty();
  }

  @Test
  void aHandedOverRequestWithAHostileMinimumVersionIsNotAccepted() {
    assertThat(ClusterDispatch.acceptsVersion(VALID, null)).isTrue();
    assertThat(ClusterDispatch.acceptsVersion(VALID, VALID)).isTrue();
    assertThat(ClusterDispatch.acceptsVersion(VALID, "cnn-20261130T105850Z-0000")).isTrue();
    assertThat(ClusterDispatch.acceptsVersion(VALID, "cnn-20261130T105852Z-0000")).isFalse();
    assertThat(ClusterDispatch.acceptsVersion(VALID, "")).isFalse();
    assertThat(ClusterDispatch.acceptsVersion(VALID, "../x")).isFalse();
  }

  @Test
  void theCatalogIgnoresAndReplacesAForgedCurrentEntry() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      ModelCatalog catalog = new ModelCatalog(vertx, new ModelRepository(dir),
          new ArtifactSignature("a-cluster-secret-of-at-least-32-characters".getBytes(), false));
      var map = await(vertx.sharedData().<String, Object>getAsyncMap(ModelCatalog.MAP));
      await(map.put(ModelCatalog.CURRENT, new JsonObject().put("version", "zzz")));
      assertThat(await(catalog.current())).as("a forged version is not the cluster's model").isNull();

      Files.write(dir.resolve(VALID + ".zip"), new byte[] {1, 2, 3});
      Files.write(dir.resolve(VALID + ".onnx"), new byte[] {4, 5, 6});
      JsonObject real = new JsonObject().put("version", VALID).put("architectureId", CifarCnn.ARCHITECTURE_ID);
      await(catalog.announce(real));
      assertThat(await(catalog.current())).isEqualTo(real);
    } finally {
      await(vertx.close());
    }
  }

  private static <T> T await(io.vertx.core.Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
  }
}
