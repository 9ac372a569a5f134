package cifarserve.model;

import cifarserve.Addresses;
import cifarserve.metrics.ServiceMetrics;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.AsyncMap;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a node learns which model is current and gets its bytes. The artifact's metadata (key
 * {@code current}) and, in a cluster, its files (keys {@code artifact:<version>} for the zip,
 * {@code onnx:<version>} for its ONNX twin) live in the shared map {@code cifar.models}; with a
 * clustered Vert.x that map is Hazelcast's, so a node that joins later finds the current model there
 * and needs no training. Versions only move forward: the {@code current} key is only ever replaced by
 * a newer version (compare-and-swap), or by any valid one when what sits there does not verify, and
 * the bytes of the version it replaces are then dropped from the map (nodes already have them on disk).
 *
 * <p>Trust ({@link ArtifactSignature}): the announcing node signs the version and its files' SHA-256s;
 * a node takes a model it does not have on disk only when that signature verifies, and writes the
 * bytes only when each file's SHA-256 is the signed one. A model it already has on disk is loaded
 * from its own copy (an announcement can only pick among local, intact, not rejected artifacts).
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
  private final ArtifactSignature signature;
  /** The last version refused: a forged entry polled every few seconds is logged (and counted) once. */
  private volatile String lastRefused;

  public ModelCatalog(Vertx vertx, ArtifactStore repository, ArtifactSignature signature) {
    this.vertx = vertx;
    this.repository = repository;
    this.signature = signature;
  }

  /** Thrown (as a failed future) for a model from the cluster that does not verify. */
  public static final class ModelRefused extends RuntimeException {
    ModelRefused(String message) {
      super(message, null, false, false);
    }
  }

  public ArtifactStore repository() {
    return repository;
  }

  private Future<AsyncMap<String, Object>> map() {
    return vertx.sharedData().getAsyncMap(MAP);
  }

  /** The map key of an artifact file, by its extension: {@code artifact:<v>} (zip), {@code onnx:<v>}. */
  static String mapKey(ModelVersion version, String fileName) {
    return version.mapKey(fileName.endsWith(".onnx") ? ONNX : ARTIFACT);
  }

  /**
   * Announces a saved artifact to every node: signs its files, stores them in the shared map (in a
   * cluster), then sets {@code current} and publishes a MODEL_READY event.
   */
  public Future<Void> announce(JsonObject metadata) {
    ModelVersion version = ModelVersion.of(metadata);
    return vertx.executeBlocking(() -> localFiles(version)).compose(files -> {
      List<ArtifactSignature.SignedFile> signed = files.stream()
          .map(f -> new ArtifactSignature.SignedFile(f.name(), ArtifactSignature.sha256(f.bytes()))).toList();
      signature.sign(metadata, signed);
      return map().compose(map -> {
        Future<Void> bytesStored = Future.succeededFuture();
        if (vertx.isClustered()) {
          for (LocalFile file : files) {
            bytesStored = bytesStored.compose(v -> map.put(mapKey(version, file.name()), Buffer.buffer(file.bytes())));
          }
        }
        return bytesStored.compose(v -> advanceCurrent(map, metadata));
      });
    }).onSuccess(v -> vertx.eventBus().publish(Addresses.MODEL_READY, metadata));
  }

  private record LocalFile(String name, byte[] bytes) {
  }

  /** The artifact's files on this node's disk: the zip, and the ONNX twin if it has one. */
  private List<LocalFile> localFiles(ModelVersion version) throws java.io.IOException {
    List<LocalFile> files = new ArrayList<>();
    for (Path path : List.of(repository.modelFile(version), repository.onnxFile(version))) {
      if (Files.isRegularFile(path)) {
        files.add(new LocalFile(path.getFileName().toString(), Files.readAllBytes(path)));
      }
    }
    return files;
  }

  /**
   * The version a new model must order after: the cluster's current one (when it verifies) or this
   * node's newest artifact, whichever is newer; null when there is neither. A trainer issues its version
   * with {@link ModelVersion#nextAfter}, so a node whose clock is behind still supersedes the current
   * model; {@link #announce} then swaps {@code current} by compare-and-set, never over a newer one.
   */
  public Future<ModelVersion> versionFloor() {
    Future<JsonObject> cluster = current();
    Future<JsonObject> local = vertx.executeBlocking(() -> repository.newest().orElse(null));
    return Future.all(cluster, local).map(both -> {
      ModelVersion floor = null;
      for (JsonObject metadata : java.util.Arrays.asList(cluster.result(), local.result())) {
        ModelVersion version = metadata == null || !ModelVersion.isValid(metadata.getString("version")) ? null
            : ModelVersion.of(metadata);
        if (version != null && (floor == null || version.isNewerThan(floor))) {
          floor = version;
        }
      }
      return floor;
    });
  }

  /** Sets {@code current} to this metadata unless a newer valid version is already there. */
  private Future<Void> advanceCurrent(AsyncMap<String, Object> map, JsonObject metadata) {
    ModelVersion version = ModelVersion.of(metadata);
    return map.get(CURRENT).compose(existing -> {
      if (existing == null) {
        return map.putIfAbsent(CURRENT, metadata).compose(previous ->
            previous == null ? Future.succeededFuture() : advanceCurrent(map, metadata));
      }
      if (!(existing instanceof JsonObject current) || !signature.verify(current).accepted()) {
        // Not a model anyone here may load (forged, broken, or unsigned): a valid version replaces
        // it, however "new" it claims to be.
        LOG.warn("Replacing a '{}' entry that does not verify in the cluster's model map with {}", CURRENT, version);
        return map.replaceIfPresent(CURRENT, existing, metadata).compose(replaced ->
            replaced ? Future.<Void>succeededFuture() : advanceCurrent(map, metadata));
      }
      if (isNewer(current, metadata)) {
        if (!ModelVersion.of(current).equals(version)) {
          LOG.warn("Model {} is not made the cluster's current one: {} is newer", version, ModelVersion.of(current));
        }
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
        return Future.join(ArtifactSignature.EXTENSIONS.stream()
                .map(ext -> map.remove(mapKey(replacedVersion, replacedVersion.fileName(ext)))).toList())
            .<Void>mapEmpty().recover(e -> Future.succeededFuture());
      });
    });
  }

  /** The cluster's current model metadata if it verifies, else null (a refusal is logged and counted). */
  public Future<JsonObject> current() {
    return map().compose(map -> map.get(CURRENT)).map(value -> {
      if (value == null) {
        return null;
      }
      if (!(value instanceof JsonObject metadata)) {
        refused("format", "current", "the cluster's '" + CURRENT + "' entry is not model metadata");
        return null;
      }
      ArtifactSignature.Verdict verdict = signature.verify(metadata);
      if (!verdict.accepted()) {
        refused(verdict.reason(), String.valueOf(metadata.getValue("version")), verdict.detail());
        return null;
      }
      return metadata;
    }).recover(e -> {
      // E.g. a value the Hazelcast serialization filter refused to deserialize: not a model either.
      refused("unreadable", CURRENT, "the cluster's '" + CURRENT + "' entry cannot be read: " + e);
      return Future.succeededFuture(null);
    });
  }

  /**
   * The trusted metadata of this version, with its files in the local repository: this node's own
   * copy when it has the artifact (intact and not rejected), else the announced one once its signature
   * verifies and its files, fetched from the map, match the signed SHA-256s.
   */
  public Future<JsonObject> ensureLocal(JsonObject metadata) {
    ModelVersion version;
    try {
      version = ModelVersion.of(metadata);
    } catch (ModelVersion.InvalidModelVersion e) {
      return refusal("version", "?", e.getMessage());
    }
    return vertx.executeBlocking(() -> repository.find(version)).compose(local -> {
      if (local.isPresent()) {
        return Future.succeededFuture(local.get());
      }
      ArtifactSignature.Verdict verdict = signature.verify(metadata);
      if (!verdict.accepted()) {
        return refusal(verdict.reason(), version.toString(), verdict.detail());
      }
      return map().compose(map -> Future.all(verdict.files().stream()
              .map(file -> map.get(mapKey(version, file.name()))).toList()))
          .compose(fetched -> {
            byte[] zip = null;
            byte[] onnx = null;
            for (int i = 0; i < verdict.files().size(); i++) {
              ArtifactSignature.SignedFile file = verdict.files().get(i);
              Object value = fetched.resultAt(i);
              byte[] bytes = value instanceof Buffer buffer ? buffer.getBytes() : null;
              Optional<String> problem = ArtifactSignature.hashProblem(file, bytes);
              if (problem.isPresent()) {
                return refusal(bytes == null ? "missing" : "hash", version.toString(), problem.get());
              }
              if (file.name().endsWith(".onnx")) {
                onnx = bytes;
              } else {
                zip = bytes;
              }
            }
            byte[] zipBytes = zip;
            byte[] onnxBytes = onnx;
            JsonObject trusted = metadata.copy();
            return vertx.executeBlocking(() -> {
              repository.saveBytes(zipBytes, onnxBytes, trusted);
              return trusted;
            });
          });
    });
  }

  private <T> Future<T> refusal(String reason, String version, String detail) {
    refused(reason, version, detail);
    return Future.failedFuture(new ModelRefused("model " + version + " refused: " + detail));
  }

  private void refused(String reason, String version, String detail) {
    String key = reason + "/" + version;
    if (key.equals(lastRefused)) {
      return;
    }
    lastRefused = key;
    LOG.warn("Refused a model from the cluster ({}): {}", reason, detail);
    Counter.builder("cifar_cluster_models_refused_total")
        .description("models offered by the cluster (map entry or announcement) that did not verify")
        .tag("reason", reason).register(ServiceMetrics.registry()).increment();
  }

  /** True when {@code candidate} is at least as new as {@code current} (ids sort by time). */
  public static boolean isNewer(JsonObject candidate, JsonObject current) {
    return current == null || ModelVersion.of(candidate).compareTo(ModelVersion.of(current)) >= 0;
  }
}
