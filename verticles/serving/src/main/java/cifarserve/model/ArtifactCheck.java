package cifarserve.model;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
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
 * the size and (where recorded) SHA-256 in the metadata catch the rest.
 */
final class ArtifactCheck {
  private static final Logger LOG = LoggerFactory.getLogger(ArtifactCheck.class);
  /** A save writes its temp files in well under a second; older ones belong to a process that died. */
  static final Duration LEFTOVER_AGE = Duration.ofMinutes(1);

  private ArtifactCheck() {
  }

  /** Empty when the model file matches its metadata, else what is wrong with it. */
  static Optional<String> problem(Path modelFile, JsonObject metadata) {
    try {
      if (!Files.isRegularFile(modelFile)) {
        return Optional.of("model file is missing");
      }
      Long expectedBytes = metadata.getLong("modelBytes");
      long actualBytes = Files.size(modelFile);
      if (expectedBytes != null && expectedBytes != actualBytes) {
        return Optional.of("model file is " + actualBytes + " bytes, its metadata says " + expectedBytes);
      }
      String expectedSha = metadata.getString("sha256");
      if (expectedSha != null && !expectedSha.equalsIgnoreCase(sha256(modelFile))) {
        return Optional.of("model file's SHA-256 differs from its metadata");
      }
      try (ZipFile zip = new ZipFile(modelFile.toFile())) {
        if (zip.size() == 0) {
          return Optional.of("model zip is empty");
        }
      }
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.of("model file is unreadable (" + e.getMessage() + ")");
    }
  }

  /** Logs and drops an artifact that fails the check: callers fall back to the next older one. */
  static boolean intact(Path modelFile, JsonObject metadata) {
    Optional<String> problem = problem(modelFile, metadata);
    problem.ifPresent(p -> LOG.warn("Skipping model artifact {}: {}; falling back to the previous valid one",
        metadata.getString("version"), p));
    return problem.isEmpty();
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
