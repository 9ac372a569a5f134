package cifarserve.ec2;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The repository files under test, found from the {@code repo.root} system property set by the pom. */
final class RepoFiles {

  private RepoFiles() {
  }

  static Path root() {
    String root = System.getProperty("repo.root");
    Path path = root != null ? Path.of(root) : Path.of("../..");
    Path normalized = path.toAbsolutePath().normalize();
    if (!Files.isDirectory(normalized.resolve("conf")) || !Files.isDirectory(normalized.resolve("ec2"))) {
      throw new IllegalStateException("repo.root does not look like the cifar-serve repository: " + normalized);
    }
    return normalized;
  }

  static Path path(String relative) {
    Path file = root().resolve(relative);
    if (!Files.isRegularFile(file)) {
      throw new IllegalStateException("missing file " + file);
    }
    return file;
  }

  static String read(String relative) {
    try {
      return Files.readString(path(relative));
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + relative, e);
    }
  }
}
