package cifarserve.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Tag;

/** Signed artifacts: what a node accepts from the cluster, and what it refuses before writing a byte. */
@Tag("unit")
class ArtifactSignatureTest {
  private static final String VERSION = "cnn-20261201T000000Z-abcd";
  private static final byte[] ZIP = "zip bytes".getBytes(StandardCharsets.UTF_8);
  private static final byte[] ONNX = "onnx bytes".getBytes(StandardCharsets.UTF_8);
  private static final byte[] SECRET = "a-cluster-secret-of-at-least-32-characters".getBytes(StandardCharsets.UTF_8);

  @TempDir
  Path dir;

  private final ArtifactSignature signer = new ArtifactSignature(SECRET, false);

  private static List<ArtifactSignature.SignedFile> files() {
    return List.of(new ArtifactSignature.SignedFile(VERSION + ".zip", ArtifactSignature.sha256(ZIP)),
        new ArtifactSignature.SignedFile(VERSION + ".onnx", ArtifactSignature.sha256(ONNX)));
  }

  private JsonObject signed() {
    return signer.sign(new JsonObject().put("version", VERSION).put("architectureId", CifarCnn.ARCHITECTURE_ID)
        .put("sha256", ArtifactSignature.sha256(ZIP))
        .put("onnx", new JsonObject().put("sha256", ArtifactSignature.sha256(ONNX))), files());
  }

  @Test
  void theServingSideNamesTheTrainedArchitecture() {
    assertThat(ArtifactSignature.ARCHITECTURE_ID).isEqualTo(CifarCnn.ARCHITECTURE_ID);
  }

  @Test
  void aSignedModelVerifiesWithTheSameSecretOnly() {
    ArtifactSignature.Verdict verdict = signer.verify(signed());
    assertThat(verdict.accepted()).isTrue();
    assertThat(verdict.files()).containsExactlyElementsOf(files());

    ArtifactSignature other = new ArtifactSignature("another-secret-of-at-least-32-characters".getBytes(), false);
    assertThat(other.verify(signed()).reason()).isEqualTo("signature");
  }

  @Test
  void tamperingWithAnySignedFieldIsRefused() {
    // The file names carry the version: another version no longer matches its own file list.
    JsonObject otherVersion = signed().put("version", "cnn-20991231T235959Z-ffff");
    assertThat(signer.verify(otherVersion).reason()).isEqualTo("files");

    JsonObject otherHash = signed();
    otherHash.getJsonObject(ArtifactSignature.FIELD).getJsonArray("files").getJsonObject(0)
        .put("sha256", ArtifactSignature.sha256("evil".getBytes()));
    assertThat(signer.verify(otherHash).reason()).isEqualTo("signature");

    JsonObject droppedOnnx = signed();
    droppedOnnx.getJsonObject(ArtifactSignature.FIELD).getJsonArray("files").remove(1);
    assertThat(signer.verify(droppedOnnx).reason()).as("nodes serve the ONNX twin").isEqualTo("files");

    JsonObject noMac = signed();
    noMac.getJsonObject(ArtifactSignature.FIELD).remove("hmacSha256");
    assertThat(signer.verify(noMac).reason()).isEqualTo("signature");

    // Without architectureId a model would take DL4J's ModelSerializer path (Java deserialization).
    assertThat(signer.verify(signed().put("architectureId", null)).reason()).isEqualTo("architecture");
    assertThat(signer.verify(signed().put("version", "zzz")).reason()).isEqualTo("version");
  }

  @Test
  void fileListsNamingOtherFilesAreRefused() {
    for (String name : List.of("../" + VERSION + ".zip", VERSION + ".json", "cnn-20261201T000000Z-0000.zip", "x")) {
      JsonObject metadata = signed();
      metadata.getJsonObject(ArtifactSignature.FIELD).getJsonArray("files").getJsonObject(0).put("name", name);
      assertThat(signer.verify(metadata).reason()).as(name).isEqualTo("files");
    }
    JsonObject noZip = signed();
    noZip.getJsonObject(ArtifactSignature.FIELD).getJsonArray("files").remove(0);
    assertThat(signer.verify(noZip).reason()).isEqualTo("files");
    JsonObject notAList = signed();
    notAList.getJsonObject(ArtifactSignature.FIELD).put("files", "all of them");
    assertThat(signer.verify(notAList).reason()).isEqualTo("files");
  }

  @Test
  void withoutASecretNothingIsAcceptedUnlessUnsignedModelsAreExplicitlyAllowed() {
    assertThat(new ArtifactSignature(null, false).verify(signed()).reason()).isEqualTo("no-secret");
    ArtifactSignature insecure = new ArtifactSignature(null, true);
    JsonObject unsigned = insecure.sign(new JsonObject().put("version", VERSION)
        .put("architectureId", CifarCnn.ARCHITECTURE_ID), files());
    assertThat(unsigned.getJsonObject(ArtifactSignature.FIELD).containsKey("hmacSha256")).isFalse();
    assertThat(insecure.verify(unsigned).accepted()).isTrue();
    assertThat(signer.verify(unsigned).reason()).as("a node with a secret refuses unsigned models")
        .isEqualTo("signature");
  }

  @Test
  void aShortOrMissingSecretFileFailsAtStartUp() throws Exception {
    Path shortSecret = Files.writeString(dir.resolve("short"), "too-short");
    JsonObject config = new JsonObject().put("cluster", new JsonObject().put("secretFile", shortSecret.toString()));
    assertThatThrownBy(() -> ArtifactSignature.from(config)).hasMessageContaining("at least");
    config.getJsonObject("cluster").put("secretFile", dir.resolve("missing").toString());
    assertThatThrownBy(() -> ArtifactSignature.from(config)).hasMessageContaining("cluster.secretFile");
    Path good = Files.write(dir.resolve("secret"), SECRET);
    config.getJsonObject("cluster").put("secretFile", good.toString());
    assertThat(ArtifactSignature.from(config).verify(signed()).accepted()).isTrue();
  }

  @Test
  void theCatalogWritesMapBytesOnlyWhenSignatureAndHashesVerify() throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      Path models = dir.resolve("models");
      ModelCatalog catalog = new ModelCatalog(vertx, new ModelRepository(models), signer);
      var map = await(vertx.sharedData().<String, Object>getAsyncMap(ModelCatalog.MAP));
      ModelVersion version = ModelVersion.parse(VERSION);

      // Right signature, wrong bytes under the key: refused before anything is written.
      await(map.put(version.mapKey("artifact"), Buffer.buffer("forged zip")));
      await(map.put(version.mapKey("onnx"), Buffer.buffer(ONNX)));
      Future<JsonObject> forgedBytes = catalog.ensureLocal(signed());
      assertThat(awaitFailure(forgedBytes)).isInstanceOf(ModelCatalog.ModelRefused.class)
          .hasMessageContaining("SHA-256");
      assertThat(models.resolve(VERSION + ".zip")).doesNotExist();

      // Wrong signature, right bytes: refused too.
      await(map.put(version.mapKey("artifact"), Buffer.buffer(ZIP)));
      JsonObject wrongMac = signed();
      wrongMac.getJsonObject(ArtifactSignature.FIELD).put("hmacSha256", "00".repeat(32));
      assertThat(awaitFailure(catalog.ensureLocal(wrongMac))).isInstanceOf(ModelCatalog.ModelRefused.class);
      assertThat(models.resolve(VERSION + ".zip")).doesNotExist();

      // Signed and whole: both files written, byte for byte.
      JsonObject trusted = await(catalog.ensureLocal(signed()));
      assertThat(trusted.getString("version")).isEqualTo(VERSION);
      assertThat(Files.readAllBytes(models.resolve(VERSION + ".zip"))).isEqualTo(ZIP);
      assertThat(Files.readAllBytes(models.resolve(VERSION + ".onnx"))).isEqualTo(ONNX);
    } finally {
      await(vertx.close());
    }
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static Throwable awaitFailure(Future<?> future) {
    try {
      future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      throw new AssertionError("expected a failure");
    } catch (java.util.concurrent.ExecutionException e) {
      return e.getCause();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
