package cifarserve.model;

import io.vertx.core.json.JsonObject;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The artifact folder as training and the CLI use it: {@link ArtifactStore} plus writing a DL4J network
 * (with its verified ONNX twin, see {@link OnnxExport}) and restoring one.
 *
 * <p>Artifacts whose metadata names {@link CifarCnn#ARCHITECTURE_ID} are restored from their
 * coefficients and the network built in code; any other DL4J model zip through its stored
 * configuration (ModelSerializer), which is slower to start.
 */
public final class ModelRepository extends ArtifactStore {
  public ModelRepository(Path directory) {
    super(directory);
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
}
