package cifarserve.model;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Who may give this node a model through the cluster. A node that announces a model signs it: an
 * HMAC-SHA256, keyed with the cluster secret ({@code cluster.secretFile}, env
 * {@code CLUSTER_SECRET_FILE}), over the version, the architecture id and the list of the artifact's
 * files with the SHA-256 of each (the DL4J zip and the ONNX twin nodes serve: a file is a line). A
 * receiving node checks the signature before it fetches anything, and every file's SHA-256 before it
 * writes or uses the bytes; anything else is refused and logged (metric
 * {@code cifar_cluster_models_refused_total}).
 *
 * <p>Without a secret a clustered node accepts no model from the cluster at all (it still serves what
 * it has or trains itself), unless {@code cluster.acceptUnsignedModels} (env
 * {@code CLUSTER_ACCEPT_UNSIGNED_MODELS}) is set: then file hashes are still checked, but anyone who
 * can reach the cluster port can choose what every node serves. For a trusted, closed network only.
 *
 * <p>Nodes serve the ONNX twin (ONNX Runtime). Models from the cluster must also name
 * {@link #ARCHITECTURE_ID} (the training module's {@code CifarCnn.ARCHITECTURE_ID}), so that if DL4J ever reads their zip (evaluation, export) its
 * weights are read as a plain tensor into the network built in code, never through DL4J's
 * ModelSerializer (which runs Java deserialization on part of the zip).
 */
public final class ArtifactSignature {
  /** The metadata field holding the signed file list and the MAC. */
  public static final String FIELD = "signature";
  /** The built-in network's id, as {@code CifarCnn} (training module) names it; a test keeps them equal. */
  public static final String ARCHITECTURE_ID = "cifar10-cnn-nchw-c2fce407a000";
  /** Shorter secrets are refused at start-up: an HMAC key should be hard to guess. */
  static final int MIN_SECRET_LENGTH = 32;
  private static final String ALGORITHM = "HmacSHA256";
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  /** The file kinds an artifact may have: the DL4J zip (always) and its ONNX twin. */
  static final List<String> EXTENSIONS = List.of(".zip", ".onnx");

  /** One file of an artifact and the SHA-256 of its bytes. */
  public record SignedFile(String name, String sha256) {
  }

  private final byte[] secret;
  private final boolean acceptUnsigned;

  ArtifactSignature(byte[] secret, boolean acceptUnsigned) {
    this.secret = secret;
    this.acceptUnsigned = acceptUnsigned;
  }

  /** From {@code cluster.secretFile} and {@code cluster.acceptUnsignedModels}. */
  public static ArtifactSignature from(JsonObject config) {
    JsonObject cluster = config.getJsonObject("cluster", new JsonObject());
    boolean acceptUnsigned = cluster.getBoolean("acceptUnsignedModels", false);
    String file = cluster.getString("secretFile");
    if (file == null || file.isBlank()) {
      return new ArtifactSignature(null, acceptUnsigned);
    }
    try {
      String value = Files.readString(Path.of(file), StandardCharsets.UTF_8).trim();
      if (value.length() < MIN_SECRET_LENGTH) {
        throw new IllegalArgumentException("the cluster secret in cluster.secretFile must have at least "
            + MIN_SECRET_LENGTH + " characters");
      }
      return new ArtifactSignature(value.getBytes(StandardCharsets.UTF_8), acceptUnsigned);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read cluster.secretFile", e);
    }
  }

  public boolean hasSecret() {
    return secret != null;
  }

  /**
   * Adds {@link #FIELD} to the metadata: the files with their hashes and, with a secret, the MAC.
   * Without a secret the file list is still recorded (nodes that opted into unsigned models check it).
   */
  public JsonObject sign(JsonObject metadata, List<SignedFile> files) {
    ModelVersion version = ModelVersion.of(metadata);
    JsonArray list = new JsonArray();
    files.forEach(f -> list.add(new JsonObject().put("name", f.name()).put("sha256", f.sha256())));
    JsonObject signature = new JsonObject().put("files", list);
    if (secret != null) {
      signature.put("hmacSha256", HexFormat.of().formatHex(
          mac(payload(version, metadata.getString("architectureId"), files))));
    }
    return metadata.put(FIELD, signature);
  }

  /**
   * The files a model from the cluster is allowed to bring, once its metadata verifies; else the
   * reason it is refused (a short, fixed word first, used as the metric's tag).
   */
  public Verdict verify(JsonObject metadata) {
    ModelVersion version;
    try {
      version = ModelVersion.of(metadata);
    } catch (ModelVersion.InvalidModelVersion e) {
      return Verdict.refused("version", e.getMessage());
    }
    if (secret == null && !acceptUnsigned) {
      return Verdict.refused("no-secret", "this node has no cluster secret (cluster.secretFile) and does not "
          + "accept unsigned models");
    }
    if (!ARCHITECTURE_ID.equals(metadata.getValue("architectureId"))) {
      return Verdict.refused("architecture", "model " + version + " does not name the built-in architecture");
    }
    List<SignedFile> files;
    try {
      files = files(version, metadata.getJsonObject(FIELD));
    } catch (RuntimeException e) {
      return Verdict.refused("files", "model " + version + ": " + e.getMessage());
    }
    if (secret != null) {
      Object mac = metadata.getJsonObject(FIELD).getValue("hmacSha256");
      byte[] presented;
      try {
        presented = mac instanceof String hex && SHA256.matcher(hex).matches() ? HexFormat.of().parseHex(hex) : null;
      } catch (IllegalArgumentException e) {
        presented = null;
      }
      byte[] expected = mac(payload(version, ARCHITECTURE_ID, files));
      if (presented == null || !MessageDigest.isEqual(expected, presented)) {
        return Verdict.refused("signature", "model " + version + " is not signed with this cluster's secret");
      }
    }
    return new Verdict(files, null, null);
  }

  /** The outcome of {@link #verify}: the signed files, or a refusal. */
  public record Verdict(List<SignedFile> files, String reason, String detail) {
    static Verdict refused(String reason, String detail) {
      return new Verdict(List.of(), reason, detail);
    }

    public boolean accepted() {
      return reason == null;
    }
  }

  /** The signed file list: {@code <version>.zip} and {@code <version>.onnx}, each once. */
  private static List<SignedFile> files(ModelVersion version, JsonObject signature) {
    if (signature == null || !(signature.getValue("files") instanceof JsonArray list)) {
      throw new IllegalArgumentException("no signed file list");
    }
    if (list.size() > EXTENSIONS.size()) {
      throw new IllegalArgumentException("too many files");
    }
    List<SignedFile> files = new ArrayList<>();
    for (Object entry : list) {
      if (!(entry instanceof JsonObject file) || !(file.getValue("name") instanceof String name)
          || !(file.getValue("sha256") instanceof String sha)) {
        throw new IllegalArgumentException("a file entry is not {name, sha256}");
      }
      if (EXTENSIONS.stream().noneMatch(ext -> version.fileName(ext).equals(name))
          || files.stream().anyMatch(f -> f.name().equals(name))) {
        throw new IllegalArgumentException("unexpected file name");
      }
      if (!SHA256.matcher(sha).matches()) {
        throw new IllegalArgumentException("a file's SHA-256 is not 64 lower-case hex digits");
      }
      files.add(new SignedFile(name, sha));
    }
    if (files.stream().noneMatch(f -> f.name().equals(version.fileName(".zip")))) {
      throw new IllegalArgumentException("the model zip is not in the file list");
    }
    // Nodes serve the ONNX twin: a model without one is of no use to them.
    if (files.stream().noneMatch(f -> f.name().equals(version.fileName(".onnx")))) {
      throw new IllegalArgumentException("the ONNX twin is not in the file list");
    }
    return List.copyOf(files);
  }

  /** What the MAC covers, one field per line (names and hashes cannot contain a newline). */
  static byte[] payload(ModelVersion version, String architectureId, List<SignedFile> files) {
    StringBuilder text = new StringBuilder("cifar-serve model v1\n")
        .append("version ").append(version).append('\n')
        .append("architecture ").append(architectureId).append('\n');
    for (SignedFile file : files) {
      text.append("file ").append(file.name()).append(' ').append(file.sha256()).append('\n');
    }
    return text.toString().getBytes(StandardCharsets.UTF_8);
  }

  private byte[] mac(byte[] payload) {
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(new SecretKeySpec(secret, ALGORITHM));
      return mac.doFinal(payload);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every JVM has " + ALGORITHM, e);
    }
  }

  /** Empty when these bytes are the signed file's, else why not. */
  public static Optional<String> hashProblem(SignedFile file, byte[] bytes) {
    if (bytes == null) {
      return Optional.of(file.name() + " is not in the cluster's model map");
    }
    return file.sha256().equals(sha256(bytes)) ? Optional.empty()
        : Optional.of(file.name() + ": the received bytes' SHA-256 differs from the signed one");
  }

  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
