package cifarserve.training;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The state of a training run after a whole epoch, so a long run survives a stop: weights, the
 * Nesterov momentum (updater state), the iteration count the learning-rate schedule reads, and the
 * run's options and curve. A resumed run replays the shuffling random stream of the epochs done, so
 * it sees the same batches as an uninterrupted one. One zip, written to a temp file then renamed;
 * its arrays are read with Nd4j.read (plain binary), never with Java deserialization.
 */
public record Checkpoint(int epochsDone, int iterations, double elapsedSeconds, JsonObject options,
                         String command, JsonArray curve) {
  private static final String STATE = "checkpoint.json";
  private static final String PARAMETERS = "coefficients.bin";
  private static final String UPDATER = "updaterState.bin";

  public static void write(Path file, MultiLayerNetwork network, Checkpoint state) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.createDirectories(file.toAbsolutePath().getParent());
    try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(tmp))) {
      zip.putNextEntry(new ZipEntry(STATE));
      zip.write(state.toJson().encodePrettily().getBytes(StandardCharsets.UTF_8));
      writeArray(zip, PARAMETERS, network.params());
      writeArray(zip, UPDATER, network.getUpdater().getStateViewArray());
    }
    Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  private static void writeArray(ZipOutputStream zip, String name, INDArray array) throws IOException {
    zip.putNextEntry(new ZipEntry(name));
    DataOutputStream out = new DataOutputStream(zip);
    Nd4j.write(array, out);
    out.flush();
  }

  public static Checkpoint read(Path file) throws IOException {
    try (ZipFile zip = new ZipFile(file.toFile()); InputStream in = entry(zip, STATE)) {
      JsonObject json = new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      return new Checkpoint(json.getInteger("epochsDone"), json.getInteger("iterations"),
          json.getDouble("elapsedSeconds"), json.getJsonObject("options"), json.getString("command"),
          json.getJsonArray("curve"));
    } catch (IOException | RuntimeException e) {
      throw new IOException(file + " is not a training checkpoint: " + e.getMessage(), e);
    }
  }

  /** Puts the checkpoint's weights, momentum and iteration count into a network of the same recipe. */
  public void restoreInto(Path file, MultiLayerNetwork network) throws IOException {
    try (ZipFile zip = new ZipFile(file.toFile())) {
      INDArray parameters = readArray(zip, PARAMETERS);
      if (parameters.length() != network.numParams()) {
        throw new IOException(file + " holds " + parameters.length() + " parameters, the network has "
            + network.numParams());
      }
      network.setParams(parameters.reshape(1, parameters.length()));
      INDArray updater = readArray(zip, UPDATER);
      network.getUpdater().setStateViewArray(network, updater.reshape(1, updater.length()), false);
      network.setIterationCount(iterations);
      network.setEpochCount(epochsDone);
    }
  }

  private static INDArray readArray(ZipFile zip, String name) throws IOException {
    try (DataInputStream in = new DataInputStream(entry(zip, name))) {
      return Nd4j.read(in);
    }
  }

  private static InputStream entry(ZipFile zip, String name) throws IOException {
    ZipEntry entry = zip.getEntry(name);
    if (entry == null) {
      throw new IOException(zip.getName() + " has no " + name);
    }
    return zip.getInputStream(entry);
  }

  JsonObject toJson() {
    return new JsonObject().put("epochsDone", epochsDone).put("iterations", iterations)
        .put("elapsedSeconds", elapsedSeconds).put("options", options).put("command", command).put("curve", curve);
  }
}
