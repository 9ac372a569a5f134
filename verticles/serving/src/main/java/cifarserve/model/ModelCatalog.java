package cifarserve.model;

import cifarserve.Addresses;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import java.nio.file.Files;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a node learns which model is current and gets its bytes. The artifact's metadata (key
 * {@code current}) and, in a cluster, its zip (key {@code artifact:<version>}) and ONNX twin (key
 * {@code onnx:<version>}) live in the shared map {@code cifar.models}; with a clustered Vert.x that
 * map is Hazelcast's, so a node that joins later finds the current model there and needs no training.
 * The bytes travel as Vert.x {@link Buffer}s (no Java serialization) and are checked against the
 * SHA-256s in the metadata before they are written or served. Versions only move forward: the
 * {@code current} key is only ever replaced by a newer version (compare-and-swap), and the bytes of
 * the version it replaces are then dropped from the map (nodes already have them on disk).
 */
public final class ModelCatalog {
  private static final Logger LOG = LoggerFactory.getLogger(ModelCatalog.class);
  static final String MAP = "cifar.models";
  static final String CURRENT = "current";
  /** Map-key prefixes of an artifact's zip and ONNX bytes: {@code artifact:<version>}, {@code onnx:<version>}. */
  static final String ARTIFACT = "artifact";
  static final String ONNX = "onnx";

  private final Vertx vertx;
  private final ArtifactStore repository;

  public ModelCatalog(Vertx vertx, ArtifactStore repository) {
    this.vertx = vertx;
    this.repository = repository;
  }

  public ArtifactStore repository() {
    return repository;
  }

  private Future<AsyncMap<String, Object>> map() {
    return vertx.sharedData().getAsyncMap(MAP);
  }

  /** Announces a saved artifact to every node: shared map first, then a MODEL_READY event. */
  public Future<Void> announce(JsonObject metadata) {
    ModelVersion version = ModelVersion.of(metadata);
    return map().compose(map -> {
      Future<Void> bytesStored = Future.succeededFuture();
      if (vertx.isClustered()) {
        bytesStored = vertx.<Buffer[]>executeBlocking(() -> new Buffer[] {
                Buffer.buffer(Files.readAllBytes(repository.modelFile(version))),
                Buffer.buffer(Files.readAllBytes(repository.onnxFile(version)))})
            .compose(bytes -> map.put(version.mapKey(ARTIFACT), bytes[0])
                .compose(v -> map.put(version.mapKey(ONNX), bytes[1])));
      }
      return bytesStored.compose(v -> advanceCurrent(map, metadata));
    }).onSuccess(v -> vertx.eventBus().publish(Addresses.MODEL_READY, metadata));
  }

  /** Sets {@code current} to this metadata unless a newer version is already there. */
  private Future<Void> advanceCurrent(AsyncMap<String, Object> map, JsonObject metadata) {
    ModelVersion version = ModelVersion.of(metadata);
    return map.get(CURRENT).compose(existing -> {
      if (existing == null) {
        return map.putIfAbsent(CURRENT, metadata).compose(previous ->
            previous == null ? Future.succeededFuture() : advanceCurrent(map, metadata));
      }
      if (acceptable(existing) == null) {
        // Whatever sits there is not a model anyone may load (a forged or broken entry): a valid
        // version replaces it, however "new" it claims to be.
        LOG.warn("Replacing an invalid '{}' entry in the cluster's model map with {}", CURRENT, version);
        return map.replaceIfPresent(CURRENT, existing, metadata).compose(replaced ->
            replaced ? Future.<Void>succeededFuture() : advanceCurrent(map, metadata));
      }
      JsonObject current = (JsonObject) existing;
      if (isNewer(current, metadata)) {
        return Future.succeededFuture();
      }
      ModelVersion replacedVersion = ModelVersion.of(current);
      return map.replaceIfPresent(CURRENT, current, metadata).compose(replaced -> {
        if (!replaced) {
          return advanceCurrent(map, metadata);
        }
        if (replacedVersion.equals(version)) {
          return Future.succeededFuture();
        }
        // The superseded artifact's bytes (~8 MB each) would otherwise pile up in every node's memory.
        return Future.join(map.remove(replacedVersion.mapKey(ARTIFACT)), map.remove(replacedVersion.mapKey(ONNX)))
            .<Void>mapEmpty().recover(e -> Future.succeededFuture());
      });
    });
  }

  /** The cluster's current model metadata, or null. */
  public Future<JsonObject> current() {
    return map().compose(map -> map.get(CURRENT)).map(value -> {
      JsonObject metadata = acceptable(value);
      if (value != null && metadata == null) {
        LOG.warn("Ignoring the cluster's '{}' model entry: not valid model metadata", CURRENT);
      }
      return metadata;
    });
  }

  /** The map value as model metadata, or null when it is not metadata with a valid version. */
  private static JsonObject acceptable(Object value) {
    if (!(value instanceof JsonObject metadata)) {
      return null;
    }
    try {
      ModelVersion.of(metadata);
      return metadata;
    } catch (ModelVersion.InvalidModelVersion e) {
      return null;
    }
  }

  /**
   * Makes sure the files serving needs (metadata and ONNX twin) are in the local repository, else fetches
   * the artifact's bytes (zip and ONNX) from the map.
   */
  public Future<Void> ensureLocal(JsonObject metadata) {
    ModelVersion version = ModelVersion.of(metadata);
    if (Files.isRegularFile(repository.metadataFile(version)) && Files.isRegularFile(repository.onnxFile(version))) {
      return Future.succeededFuture();
    }
    return map().compose(map -> Future.all(map.get(version.mapKey(ARTIFACT)), map.get(version.mapKey(ONNX))))
        .compose(both -> {
      Object zip = both.resultAt(0);
      Object onnx = both.resultAt(1);
      if (zip == null || onnx == null) {
        return Future.failedFuture("model " + version + " is neither on disk nor (with its ONNX twin) in the "
            + "cluster's model map");
      }
      // saveBytes checks both against the metadata's SHA-256s before writing anything
      return vertx.executeBlocking(() -> {
        repository.saveBytes(((Buffer) zip).getBytes(), ((Buffer) onnx).getBytes(), metadata.copy());
        return null;
      });
    });
  }

  /** True when {@code candidate} is at least as new as {@code current} (ids sort by time). */
  public static boolean isNewer(JsonObject candidate, JsonObject current) {
    return current == null || ModelVersion.of(candidate).compareTo(ModelVersion.of(current)) >= 0;
  }
}
