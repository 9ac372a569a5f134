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

/**
 * A folder of versioned model artifacts: {@code <version>.zip} (the DL4J network) beside
 * {@code <version>.json} (metadata). Both are written to temporary files and renamed into place,
 * the metadata last, so a reader never sees a half-written artifact: an artifact exists exactly when
 * its metadata file does. Version ids sort by creation time.
 *
 * <p>Artifacts whose metadata names {@link CifarCnn#ARCHITECTURE_ID} are restored from their
 * coefficients and the network built in code; any other DL4J model zip through its stored
 * configuration (ModelSerializer), which is slower to start.
 */
public final class ModelRepository {
  private final Path directory;

  public ModelRepository(Path directory) {
    this.directory = directory;
  }

  public Path directory() {
    return directory;
  }

  public Path modelFile(String version) {
    return directory.resolve(version + ".zip");
  }

  public Path metadataFile(String version) {
    return directory.resolve(version + ".json");
  }

  /** Writes network and metadata atomically; returns the metadata file. */
  public Path save(MultiLayerNetwork network, JsonObject metadata) throws IOException {
    return write(metadata, tmpModel -> {
      ModelSerializer.writeModel(network, tmpModel.toFile(), false);
      metadata.put("modelBytes", Files.size(tmpModel));
      // Lets a node tell a corrupt artifact from a whole one before trusting it (ArtifactCheck).
      metadata.put("sha256", ArtifactCheck.sha256(tmpModel));
    });
  }

  /** Stores an artifact received as bytes (from another node), with the same atomicity. */
  public Path saveBytes(byte[] modelZip, JsonObject metadata) throws IOException {
    return write(metadata, tmpModel -> Files.write(tmpModel, modelZip));
  }

  private interface ModelWriter {
    void writeTo(Path tmpModel) throws IOException;
  }

  /** Model into a temp file, metadata into another, then both renamed: the metadata last. */
  private Path write(JsonObject metadata, ModelWriter modelWriter) throws IOException {
    String version = requireVersion(metadata);
    Files.createDirectories(directory);
    Path tmpModel = Files.createTempFile(directory, ".tmp-" + version, ".zip");
    Path tmpMeta = Files.createTempFile(directory, ".tmp-" + version, ".json");
    try {
      modelWriter.writeTo(tmpModel);
      Files.writeString(tmpMeta, metadata.encodePrettily() + "\n", StandardCharsets.UTF_8);
      move(tmpModel, modelFile(version));
      move(tmpMeta, metadataFile(version));
      return metadataFile(version);
    } finally {
      Files.deleteIfExists(tmpModel);
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
          .filter(meta -> Files.isRegularFile(modelFile(meta.getString("version"))))
          .filter(meta -> !isRejected(meta.getString("version")))
          .sorted(Comparator.comparing((JsonObject meta) -> meta.getString("version")).reversed())
          .filter(meta -> ArtifactCheck.intact(modelFile(meta.getString("version")), meta))
          .toList();
    }
  }

  /**
   * Marks an artifact the accuracy gate refused: it stays on disk for inspection, but
   * {@link #list()} (and so every "load the newest" path) skips it.
   */
  public void markRejected(String version, String reason) throws IOException {
    Files.writeString(rejectionFile(version), new JsonObject().put("version", version).put("rejected", reason)
        .encodePrettily() + "\n", StandardCharsets.UTF_8);
  }

  public boolean isRejected(String version) {
    return Files.exists(rejectionFile(version));
  }

  private Path rejectionFile(String version) {
    return directory.resolve(version + ".rejected");
  }

  public Optional<JsonObject> newest() throws IOException {
    return list().stream().findFirst();
  }

  public LoadedModel load(JsonObject metadata) throws IOException {
    String version = requireVersion(metadata);
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
      return meta.getString("version") == null ? Optional.empty() : Optional.of(meta);
    } catch (IOException | RuntimeException e) {
      // A foreign or damaged file is not an artifact; the repository skips it rather than failing.
      return Optional.empty();
    }
  }

  private static String requireVersion(JsonObject metadata) {
    String version = metadata.getString("version");
    if (version == null || !version.matches("[A-Za-z0-9._-]+")) {
      throw new IllegalArgumentException("model metadata needs a file-name-safe 'version', got " + version);
    }
    return version;
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
