package cifarserve.model;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.ZipFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether an artifact on disk is whole before anyone trusts it, and the removal of temp files a killed
 * save left behind. A truncated zip loses its central directory (at the end), so opening it fails;
 * the sizes and (where recorded) SHA-256s in the metadata catch the rest, for the zip and the ONNX twin.
 */
final class ArtifactCheck {
  private static final Logger LOG = LoggerFactory.getLogger(ArtifactCheck.class);
  /** A save writes its temp files in well under a second; older ones belong to a process that died. */
  static final Duration LEFTOVER_AGE = Duration.ofMinutes(1);

  private ArtifactCheck() {
  }

  /** Empty when the model file matches its metadata, else what is wrong with it. */
  static Optional<String> problem(Path modelFile, JsonObject metadata) {
    Optional<String> problem = fileProblem(modelFile, "model file", metadata.getLong("modelBytes"),
        metadata.getString("sha256"));
    if (problem.isPresent()) {
      return problem;
    }
    try (ZipFile zip = new ZipFile(modelFile.toFile())) {
      return zip.size() == 0 ? Optional.of("model zip is empty") : Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.of("model file is unreadable (" + e.getMessage() + ")");
    }
  }

  /** {@link #problem} where the zip is present; a serving-only copy (the function image) has none. */
  static Optional<String> zipProblem(Path modelFile, JsonObject metadata) {
    return Files.isRegularFile(modelFile) ? problem(modelFile, metadata) : Optional.empty();
  }

  /** Empty when the ONNX twin matches the size and SHA-256 its metadata records, else what is wrong. */
  static Optional<String> onnxProblem(Path onnxFile, JsonObject metadata) {
    JsonObject onnx = metadata.getJsonObject("onnx", new JsonObject());
    return fileProblem(onnxFile, "ONNX file", onnx.getLong("bytes"), onnx.getString("sha256"));
  }

  /** The same for the ONNX twin's bytes already read: the bytes checked are the bytes then loaded. */
  static Optional<String> onnxProblem(byte[] onnxBytes, JsonObject metadata) {
    JsonObject onnx = metadata.getJsonObject("onnx", new JsonObject());
    return sizeProblem("ONNX file", onnx.getLong("bytes"), onnxBytes.length)
        .or(() -> shaProblem("ONNX file", onnx.getString("sha256"), () -> OnnxModel.sha256(onnxBytes)));
  }

  private static Optional<String> fileProblem(Path file, String what, Long expectedBytes, String expectedSha) {
    try {
      if (!Files.isRegularFile(file)) {
        return Optional.of(what + " is missing");
      }
      Optional<String> size = sizeProblem(what, expectedBytes, Files.size(file));
      return size.isPresent() ? size : shaProblem(what, expectedSha, () -> sha256(file));
    } catch (IOException | RuntimeException e) { // an UncheckedIOException from the hash included
      return Optional.of(what + " is unreadable (" + e.getMessage() + ")");
    }
  }

  private static Optional<String> sizeProblem(String what, Long expectedBytes, long actualBytes) {
    return expectedBytes != null && expectedBytes != actualBytes
        ? Optional.of(what + " is " + actualBytes + " bytes, its metadata says " + expectedBytes)
        : Optional.empty();
  }

  /** A hash source that may fail reading its file. */
  private interface Sha256 {
    String hex() throws IOException;
  }

  private static Optional<String> shaProblem(String what, String expectedSha, Sha256 actual) {
    try {
      return expectedSha != null && !expectedSha.equalsIgnoreCase(actual.hex())
          ? Optional.of(what + "'s SHA-256 differs from its metadata")
          : Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Whether the artifact's files match its metadata: the zip where present, the ONNX twin where present
   * (what is served). One that does not is logged and dropped: callers fall back to the next older one.
   */
  static boolean intact(Path modelFile, Path onnxFile, JsonObject metadata) {
    Optional<String> problem = zipProblem(modelFile, metadata);
    if (problem.isEmpty() && metadata.getJsonObject("onnx") != null && Files.isRegularFile(onnxFile)) {
      problem = onnxProblem(onnxFile, metadata);
    }
    problem.ifPresent(p -> warnSkipping(metadata, p));
    return problem.isEmpty();
  }

  static void warnSkipping(JsonObject metadata, String problem) {
    LOG.warn("Skipping model artifact {}: {}; falling back to the previous valid one", metadata.getString("version"),
        problem);
  }

  public static String sha256(Path file) throws IOException {
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
      return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** Deletes {@code .tmp-*} files older than {@link #LEFTOVER_AGE}; returns how many. */
  static int removeLeftovers(Path directory) {
    if (!Files.isDirectory(directory)) {
      return 0;
    }
    FileTime cutoff = FileTime.from(Instant.now().minus(LEFTOVER_AGE));
    int removed = 0;
    try (Stream<Path> files = Files.list(directory)) {
      for (Path file : files.filter(p -> p.getFileName().toString().startsWith(".tmp-")).toList()) {
        if (Files.getLastModifiedTime(file).compareTo(cutoff) < 0 && Files.deleteIfExists(file)) {
          LOG.info("Removed {} left by an interrupted model save", file.getFileName());
          removed++;
        }
      }
    } catch (IOException e) {
      LOG.warn("Could not clean leftover temp files in {}: {}", directory, e.getMessage());
    }
    return removed;
  }
}
