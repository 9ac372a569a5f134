package cifarserve.model;

import static org.assertj.core.api.Assertions.assertThat;

import cifarserve.TestServers;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.Tag;

/**
 * A node fetching the current model's bytes from the shared map (a local map here; Hazelcast's in a
 * cluster, same API): both files, each checked against its signed SHA-256 before anything is written.
 */
@Tag("unit")
class ModelCatalogTest {
  private static final ArtifactSignature SIGNER =
      new ArtifactSignature("a-cluster-secret-of-at-least-32-characters".getBytes(), false);
  @TempDir
  Path tmp;
  Vertx vertx;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() {
    TestServers.await(vertx.close());
  }

  private void share(ModelVersion version, byte[] zip, byte[] onnx) {
    TestServers.await(vertx.sharedData().<String, Object>getAsyncMap(ModelCatalog.MAP)
        .compose(map -> map.put(version.mapKey(ModelCatalog.ARTIFACT), Buffer.buffer(zip))
            .compose(v -> map.put(version.mapKey(ModelCatalog.ONNX), Buffer.buffer(onnx)))));
  }

  @Test
  void fetchedBytesAreWrittenOnlyWhenBothMatchTheirHashes() throws Exception {
    JsonObject metadata = OnnxModelTest.shippedMetadata();
    ModelVersion version = ModelVersion.of(metadata);
    byte[] zip = Files.readAllBytes(OnnxModelTest.SHIPPED.modelFile(version));
    byte[] onnx = Files.readAllBytes(OnnxModelTest.SHIPPED.onnxFile(version));
    metadata = SIGNER.sign(metadata.copy(), List.of(
        new ArtifactSignature.SignedFile(version.fileName(".zip"), ArtifactSignature.sha256(zip)),
        new ArtifactSignature.SignedFile(version.fileName(".onnx"), ArtifactSignature.sha256(onnx))));
    ModelRepository local = new ModelRepository(tmp);
    ModelCatalog catalog = new ModelCatalog(vertx, local, SIGNER);

    byte[] tampered = onnx.clone();
    tampered[tampered.length - 10] ^= 0x01;
    share(version, zip, tampered);
    Throwable refused = catalog.ensureLocal(metadata).toCompletionStage().toCompletableFuture()
        .handle((v, e) -> e).get();
    assertThat(refused).hasMessageContaining("SHA-256").hasMessageContaining("refused");
    assertThat(Files.list(tmp).filter(p -> !p.getFileName().toString().startsWith(".tmp"))).isEmpty();

    share(version, zip, onnx);
    TestServers.await(catalog.ensureLocal(metadata));
    assertThat(Files.readAllBytes(local.onnxFile(version))).isEqualTo(onnx);
    assertThat(local.newestServable().orElseThrow().getString("version")).isEqualTo(version.toString());
    try (OnnxModel model = local.loadOnnx(metadata, 1, 1)) {
      assertThat(model.version()).isEqualTo(version.toString());
    }
  }

  @Test
  void aModelWhoseOnnxTwinIsNotSharedIsNotFetched() {
    JsonObject metadata = SIGNER.sign(new JsonObject().put("version", "cnn-20260101T000000Z-0009")
        .put("architectureId", CifarCnn.ARCHITECTURE_ID), List.of(new ArtifactSignature.SignedFile(
        "cnn-20260101T000000Z-0009.zip", ArtifactSignature.sha256(new byte[] {1}))));
    TestServers.await(vertx.sharedData().<String, Object>getAsyncMap(ModelCatalog.MAP)
        .compose(map -> map.put("artifact:cnn-20260101T000000Z-0009", Buffer.buffer(new byte[] {1}))));
    Throwable failure = new ModelCatalog(vertx, new ModelRepository(tmp), SIGNER).ensureLocal(metadata)
        .toCompletionStage().toCompletableFuture().handle((v, e) -> e).join();
    assertThat(failure).hasMessageContaining("ONNX twin");
  }
}
