package cifarserve.model;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A folder of versioned model artifacts, as serving sees it: {@code <version>.zip} (the DL4J network,
 * the training artifact) beside {@code <version>.onnx} (its verified ONNX twin, what is served) and
 * {@code <version>.json} (metadata with both files' SHA-256s); a serving-only copy (the function
 * image) holds the .onnx and .json alone. Files are written to temporary files and
 * renamed into place, the metadata last, so a reader never sees a half-written artifact: an artifact
 * exists exactly when its metadata file does. Version ids sort by creation time. Writing a DL4J
 * network and reading one back is {@code ModelRepository}'s job (the node's, with DL4J).
 */
public class ArtifactStore {
  private static final Logger LOG = LoggerFactory.getLogger(ArtifactStore.class);
  private final Path directory;

  public ArtifactStore(Path directory) {
    this.directory = directory;
  }

  public Path directory() {
    return directory;
  }

  public Path modelFile(ModelVersion version) {
    return directory.resolve(version.fileName(".zip"));
  }

  public Path metadataFile(ModelVersion version) {
    return directory.resolve(version.fileName(".json"));
  }

  public Path onnxFile(ModelVersion version) {
    return directory.resolve(version.fileName(".onnx"));
  }

  /**
   * Stores an artifact received as bytes (from another node), with the same atomicity, after checking
   * both against the SHA-256s its metadata records (refused, nothing written, if either differs).
   */
  public Path saveBytes(byte[] modelZip, byte[] onnx, JsonObject metadata) throws IOException {
    ModelVersion version = ModelVersion.of(metadata);
    String zipSha = metadata.getString("sha256");
    if (zipSha != null && !zipSha.equalsIgnoreCase(OnnxModel.sha256(modelZip))) {
      throw new IOException("model " + version + ": received zip's SHA-256 differs from its metadata: refused");
    }
    String onnxSha = metadata.getJsonObject("onnx", new JsonObject()).getString("sha256");
    if (onnxSha == null || !onnxSha.equalsIgnoreCase(OnnxModel.sha256(onnx))) {
      throw new IOException("model " + version + ": received ONNX file's SHA-256 differs from its metadata: refused");
    }
    return write(metadata, onnx, tmpModel -> Files.write(tmpModel, modelZip));
  }

  /** Writes the model zip into the temp file it is given. */
  interface ModelWriter {
    void writeTo(Path tmpModel) throws IOException;
  }

  /** Model (and ONNX) into temp files, metadata into another, then all renamed: the metadata last. */
  Path write(JsonObject metadata, byte[] onnx, ModelWriter modelWriter) throws IOException {
    ModelVersion version = ModelVersion.of(metadata);
    Files.createDirectories(directory);
    Path tmpModel = Files.createTempFile(directory, ".tmp-" + version, ".zip");
    Path tmpOnnx = Files.createTempFile(directory, ".tmp-" + version, ".onnx");
    Path tmpMeta = Files.createTempFile(directory, ".tmp-" + version, ".json");
    try {
      modelWriter.writeTo(tmpModel);
      if (onnx != null) {
        Files.write(tmpOnnx, onnx);
        metadata.put("onnx", new JsonObject().put("file", onnxFile(version).getFileName().toString())
            .put("bytes", onnx.length).put("sha256", ArtifactCheck.sha256(tmpOnnx)).put("opset", OnnxModel.OPSET)
            .put("input", OnnxModel.INPUT).put("output", OnnxModel.OUTPUT));
      }
      Files.writeString(tmpMeta, metadata.encodePrettily() + "\n", StandardCharsets.UTF_8);
      move(tmpModel, modelFile(version));
      if (onnx != null) {
        move(tmpOnnx, onnxFile(version));
      }
      move(tmpMeta, metadataFile(version));
      return metadataFile(version);
    } finally {
      Files.deleteIfExists(tmpModel);
      Files.deleteIfExists(tmpOnnx);
      Files.deleteIfExists(tmpMeta);
    }
  }

  /**
   * Metadata of every complete, intact artifact, newest first: a corrupt or truncated one is skipped
   * with a warning (ArtifactCheck), so the previous valid one serves. Also removes temp files that a
   * killed save left behind.
   */
  public List<JsonObject> list() throws IOException {
    try (Stream<JsonObject> artifacts = intactNewestFirst()) {
      return artifacts.toList();
    }
  }

  /** Lazily hashed: finding the newest intact artifact checks only as many as it needs. */
  private Stream<JsonObject> intactNewestFirst() throws IOException {
    return completeNewestFirst().stream().filter(this::intact);
  }

  /** Metadata of every complete artifact not rejected, newest first, none of its files hashed yet. */
  private List<JsonObject> completeNewestFirst() throws IOException {
    if (!Files.isDirectory(directory)) {
      return List.of();
    }
    ArtifactCheck.removeLeftovers(directory);
    List<JsonObject> complete;
    try (Stream<Path> files = Files.list(directory)) {
      complete = files
          .filter(p -> p.getFileName().toString().endsWith(".json") && !p.getFileName().toString().startsWith("."))
          .map(this::readMetadataQuietly)
          .flatMap(Optional::stream)
          .filter(this::present)
          .filter(meta -> !isRejected(ModelVersion.of(meta)))
          .sorted(Comparator.comparing(ModelVersion::of).reversed())
          .toList();
    }
    return complete;
  }

  /** Its zip is here, or (a serving-only copy: the function image ships no DL4J zip) its ONNX twin. */
  private boolean present(JsonObject meta) {
    ModelVersion version = ModelVersion.of(meta);
    return Files.isRegularFile(modelFile(version))
        || meta.getJsonObject("onnx") != null && Files.isRegularFile(onnxFile(version));
  }

  /** The zip and the ONNX twin, each where present, match the sizes and SHA-256s the metadata records. */
  private boolean intact(JsonObject meta) {
    ModelVersion version = ModelVersion.of(meta);
    return ArtifactCheck.intact(modelFile(version), onnxFile(version), meta);
  }

  /**
   * Marks an artifact the accuracy gate refused: it stays on disk for inspection, but
   * {@link #list()} (and so every "load the newest" path) skips it.
   */
  public void markRejected(ModelVersion version, String reason) throws IOException {
    Files.writeString(rejectionFile(version), new JsonObject().put("version", version.toString()).put("rejected", reason)
        .encodePrettily() + "\n", StandardCharsets.UTF_8);
  }

  public boolean isRejected(ModelVersion version) {
    return Files.exists(rejectionFile(version));
  }

  private Path rejectionFile(ModelVersion version) {
    return directory.resolve(version.fileName(".rejected"));
  }

  /**
   * This version's metadata if this folder has it to serve (its ONNX twin and, where present, the zip
   * intact) and the accuracy gate did not reject it. A damaged local copy is not found: the cluster's
   * copy is fetched again and replaces it.
   */
  public Optional<JsonObject> find(ModelVersion version) {
    if (!Files.isRegularFile(onnxFile(version)) || isRejected(version)) {
      return Optional.empty();
    }
    return readMetadataQuietly(metadataFile(version)).filter(this::intact);
  }

  public Optional<JsonObject> newest() throws IOException {
    try (Stream<JsonObject> artifacts = intactNewestFirst()) {
      return artifacts.findFirst();
    }
  }

  /**
   * The newest intact artifact that can be served: one with an ONNX twin. Older artifacts without one
   * are skipped with a warning naming the command that converts them.
   */
  public Optional<JsonObject> newestServable() throws IOException {
    for (JsonObject metadata : (Iterable<JsonObject>) intactNewestFirst()::iterator) {
      if (hasOnnxTwin(metadata)) {
        return Optional.of(metadata);
      }
      warnNoOnnxTwin(metadata);
    }
    return Optional.empty();
  }

  /**
   * {@link #newestServable} loaded ({@link #loadOnnx}), its ONNX twin read and hashed once instead of
   * twice: the bytes checked are the bytes ONNX Runtime gets. Hashing is most of a cold start's model
   * loading in Java (8.7 MB: ~80 ms of CPU each time on a fresh JVM). An artifact that fails a check is
   * skipped for the next older one, as there.
   */
  public Optional<OnnxModel> loadNewestServable(int lanes, int threadsPerLane) throws IOException {
    for (JsonObject metadata : completeNewestFirst()) {
      if (!hasOnnxTwin(metadata)) {
        warnNoOnnxTwin(metadata);
        continue;
      }
      ModelVersion version = ModelVersion.of(metadata);
      Optional<String> problem = ArtifactCheck.zipProblem(modelFile(version), metadata);
      byte[] onnx = null;
      if (problem.isEmpty() && metadata.getJsonObject("onnx").getString("sha256") == null) {
        problem = Optional.of("no SHA-256 of its ONNX file recorded");
      }
      if (problem.isEmpty()) {
        try {
          onnx = Files.readAllBytes(onnxFile(version));
          problem = ArtifactCheck.onnxProblem(onnx, metadata);
        } catch (IOException e) {
          problem = Optional.of("ONNX file is unreadable (" + e.getMessage() + ")");
        }
      }
      if (problem.isEmpty()) {
        return Optional.of(OnnxModel.open(onnx, metadata, lanes, threadsPerLane));
      }
      ArtifactCheck.warnSkipping(metadata, problem.get());
    }
    return Optional.empty();
  }

  private boolean hasOnnxTwin(JsonObject metadata) {
    return metadata.getJsonObject("onnx") != null && Files.isRegularFile(onnxFile(ModelVersion.of(metadata)));
  }

  private static void warnNoOnnxTwin(JsonObject metadata) {
    LOG.warn("Model {} has no ONNX twin and cannot be served: run `cifar-serve export {}` to write it",
        metadata.getString("version"), metadata.getString("version"));
  }

  /** The artifact's ONNX twin in ONNX Runtime, its SHA-256 checked first (see {@link OnnxModel}). */
  public OnnxModel loadOnnx(JsonObject metadata, int lanes, int threadsPerLane) throws IOException {
    return OnnxModel.load(onnxFile(ModelVersion.of(metadata)), metadata, lanes, threadsPerLane);
  }

  private Optional<JsonObject> readMetadataQuietly(Path file) {
    try {
      JsonObject meta = new JsonObject(Files.readString(file, StandardCharsets.UTF_8));
      // The file name is not trusted: the version inside must be valid (and match it) to be an artifact.
      return file.getFileName().toString().equals(ModelVersion.of(meta).fileName(".json"))
          ? Optional.of(meta) : Optional.empty();
    } catch (IOException | RuntimeException e) {
      // A foreign or damaged file is not an artifact; the repository skips it rather than failing.
      return Optional.empty();
    }
  }

  private static void move(Path from, Path to) throws IOException {
    // Temp files are created owner-only; artifacts are read by other users (e.g. a container's uid).
    try {
      Files.setPosixFilePermissions(from, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: default permissions apply
    }
    try {
      Files.move(from, to, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
    }
  }
}
