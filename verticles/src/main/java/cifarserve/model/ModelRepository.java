package cifarserve.model;

import io.vertx.core.json.JsonObject;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
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
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A folder of versioned model artifacts: {@code <version>.zip} (the DL4J network) beside
 * {@code <version>.onnx} (its verified ONNX export, see {@link OnnxExport}) and {@code <version>.json}
 * (metadata). Both are written to temporary files and renamed into place,
 * the metadata last, so a reader never sees a half-written artifact: an artifact exists exactly when
 * its metadata file does. Version ids sort by creation time.
 *
 * <p>Artifacts whose metadata names {@link CifarCnn#ARCHITECTURE_ID} are restored from their
 * coefficients and the network built in code; any other DL4J model zip through its stored
 * configuration (ModelSerializer), which is slower to start.
 */
public final class ModelRepository {
  private static final Logger LOG = LoggerFactory.getLogger(ModelRepository.class);
  private final Path directory;

  public ModelRepository(Path directory) {
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

  /** Writes network and metadata atomically (no ONNX twin: tests and benchmarks); returns the metadata file. */
  public Path save(MultiLayerNetwork network, JsonObject metadata) throws IOException {
    return save(network, null, metadata);
  }

  /**
   * Writes network, its verified ONNX export (when not null) and metadata atomically; the metadata records
   * each file's size and SHA-256. Returns the metadata file.
   */
  public Path save(MultiLayerNetwork network, byte[] onnx, JsonObject metadata) throws IOException {
    return write(metadata, onnx, tmpModel -> {
      ModelSerializer.writeModel(network, tmpModel.toFile(), false);
      recordZip(tmpModel, metadata);
    });
  }

  /**
   * Adds a verified ONNX export to an existing artifact (its zip's bytes unchanged): the .onnx renamed
   * into place first, then the metadata rewritten with its checksum (and the zip's).
   */
  public Path addOnnx(byte[] onnx, JsonObject metadata) throws IOException {
    ModelVersion version = ModelVersion.of(metadata);
    return write(metadata, onnx, tmpModel -> {
      Files.copy(modelFile(version), tmpModel, StandardCopyOption.REPLACE_EXISTING);
      recordZip(tmpModel, metadata);
    });
  }

  private static void recordZip(Path zip, JsonObject metadata) throws IOException {
    metadata.put("modelBytes", Files.size(zip));
    // Lets a node tell a corrupt artifact from a whole one before trusting it (ArtifactCheck).
    metadata.put("sha256", ArtifactCheck.sha256(zip));
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

  private interface ModelWriter {
    void writeTo(Path tmpModel) throws IOException;
  }

  /** Model (and ONNX) into temp files, metadata into another, then all renamed: the metadata last. */
  private Path write(JsonObject metadata, byte[] onnx, ModelWriter modelWriter) throws IOException {
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
            .put("bytes", onnx.length).put("sha256", ArtifactCheck.sha256(tmpOnnx)).put("opset", OnnxExport.OPSET)
            .put("input", OnnxExport.INPUT).put("output", OnnxExport.OUTPUT));
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
    if (!Files.isDirectory(directory)) {
      return List.of();
    }
    ArtifactCheck.removeLeftovers(directory);
    try (Stream<Path> files = Files.list(directory)) {
      return files
          .filter(p -> p.getFileName().toString().endsWith(".json") && !p.getFileName().toString().startsWith("."))
          .map(this::readMetadataQuietly)
          .flatMap(Optional::stream)
          .filter(meta -> Files.isRegularFile(modelFile(ModelVersion.of(meta))))
          .filter(meta -> !isRejected(ModelVersion.of(meta)))
          .sorted(Comparator.comparing(ModelVersion::of).reversed())
          .filter(meta -> ArtifactCheck.intact(modelFile(ModelVersion.of(meta)), meta))
          .toList();
    }
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

  /** This version's metadata if the artifact is here, intact and not rejected by the accuracy gate. */
  public Optional<JsonObject> find(ModelVersion version) {
    if (!Files.isRegularFile(modelFile(version)) || !Files.isRegularFile(onnxFile(version)) || isRejected(version)) {
      return Optional.empty();
    }
    return readMetadataQuietly(metadataFile(version))
        .filter(meta -> ArtifactCheck.intact(modelFile(version), meta));
  }

  public Optional<JsonObject> newest() throws IOException {
    return list().stream().findFirst();
  }

  /**
   * The newest intact artifact that can be served: one with an ONNX twin. Older artifacts without one
   * are skipped with a warning naming the command that converts them.
   */
  public Optional<JsonObject> newestServable() throws IOException {
    for (JsonObject metadata : list()) {
      if (metadata.getJsonObject("onnx") != null && Files.isRegularFile(onnxFile(ModelVersion.of(metadata)))) {
        return Optional.of(metadata);
      }
      LOG.warn("Model {} has no ONNX twin and cannot be served: run `cifar-serve export {}` to write it",
          metadata.getString("version"), metadata.getString("version"));
    }
    return Optional.empty();
  }

  /** The artifact's ONNX twin in ONNX Runtime, its SHA-256 checked first (see {@link OnnxModel}). */
  public OnnxModel loadOnnx(JsonObject metadata, int lanes, int threadsPerLane) throws IOException {
    return OnnxModel.load(onnxFile(ModelVersion.of(metadata)), metadata, lanes, threadsPerLane);
  }

  public LoadedModel load(JsonObject metadata) throws IOException {
    ModelVersion version = ModelVersion.of(metadata);
    MultiLayerNetwork network = CifarCnn.ARCHITECTURE_ID.equals(metadata.getString("architectureId"))
        ? CifarCnn.withParameters(readCoefficients(modelFile(version)))
        : ModelSerializer.restoreMultiLayerNetwork(modelFile(version).toFile(), false);
    return new LoadedModel(metadata, network);
  }

  /** The flat parameter vector of a DL4J model zip (the entry ModelSerializer writes it to). */
  static INDArray readCoefficients(Path modelZip) throws IOException {
    try (ZipFile zip = new ZipFile(modelZip.toFile())) {
      ZipEntry entry = zip.getEntry(ModelSerializer.COEFFICIENTS_BIN);
      if (entry == null) {
        throw new IOException(modelZip + " has no " + ModelSerializer.COEFFICIENTS_BIN);
      }
      try (DataInputStream in = new DataInputStream(new BufferedInputStream(zip.getInputStream(entry), 1 << 16))) {
        return Nd4j.read(in);
      }
    }
  }

  public Optional<LoadedModel> loadNewest() throws IOException {
    Optional<JsonObject> newest = newest();
    return newest.isEmpty() ? Optional.empty() : Optional.of(load(newest.get()));
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
