package cifarserve.model;

import cifarserve.inference.Batcher;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import cifarserve.data.CifarImages;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The serving model: an ONNX Runtime session on an artifact's {@code .onnx} (input {@code input} FP32
 * [N,3,32,32] pixels 0-1, standardisation and softmax inside the graph; output {@code probabilities}
 * [N,10]). The bytes are checked against the SHA-256 its metadata records before ONNX Runtime sees them:
 * a model that does not match is refused.
 *
 * <p>One session per lane, each with its own intra-op thread pool of {@code inference.threadsPerLane}
 * threads, so lanes do not share cores ({@link #sessionOptions}). A lane calls
 * {@link #predict(int, FloatBuffer, int)} with its own reused direct buffer ({@link #inputBuffer}): ONNX
 * Runtime reads a direct buffer in place, so no input is copied or allocated per batch. A replaced model
 * is {@link #retire retired}: its sessions are closed once the last batch that {@link #retain retained}
 * it has {@link #release released} it.
 */
public final class OnnxModel implements Batcher.Model, AutoCloseable {
  /** The graph's input and output names and opset (what {@code OnnxExport} writes). */
  public static final String INPUT = "input";
  public static final String OUTPUT = "probabilities";
  public static final int OPSET = 17;
  /** ONNX Runtime's session key for intra-op threads busy-waiting between parallel sections. */
  static final String ALLOW_SPINNING = "session.intra_op.allow_spinning";
  private static final long[] IMAGE_SHAPE = {CifarImages.CHANNELS, CifarImages.SIDE, CifarImages.SIDE};

  private final JsonObject metadata;
  private final OrtSession[] sessions;
  /** The owner's reference plus one per batch in flight; at 0 the sessions are closed. */
  private final AtomicInteger references = new AtomicInteger(1);

  private OnnxModel(JsonObject metadata, OrtSession[] sessions) {
    this.metadata = metadata;
    this.sessions = sessions;
  }

  /** Loads the artifact's ONNX twin after checking its SHA-256; one session per lane. */
  public static OnnxModel load(Path onnxFile, JsonObject metadata, int lanes, int threadsPerLane) throws IOException {
    JsonObject onnx = metadata.getJsonObject("onnx");
    String version = metadata.getString("version");
    if (onnx == null || onnx.getString("sha256") == null) {
      throw new IOException("model " + version + " has no ONNX twin recorded in its metadata: serving needs one "
          + "(run `cifar-serve export " + version + "` to write it)");
    }
    if (!Files.isRegularFile(onnxFile)) {
      throw new IOException("model " + version + ": " + onnxFile.getFileName() + " is missing");
    }
    byte[] bytes = Files.readAllBytes(onnxFile);
    return fromBytes(bytes, metadata, lanes, threadsPerLane);
  }

  /** The same from bytes already read (hashed here: the bytes checked are the bytes loaded). */
  public static OnnxModel fromBytes(byte[] bytes, JsonObject metadata, int lanes, int threadsPerLane)
      throws IOException {
    String expected = metadata.getJsonObject("onnx", new JsonObject()).getString("sha256");
    String actual = sha256(bytes);
    if (expected == null || !expected.equalsIgnoreCase(actual)) {
      throw new IOException("model " + metadata.getString("version") + ": the ONNX file's SHA-256 " + actual
          + " differs from its metadata's " + expected + ": refused");
    }
    return open(bytes, metadata, lanes, threadsPerLane);
  }

  /** Sessions on bytes the caller has already checked against {@code metadata} ({@link ArtifactCheck}). */
  static OnnxModel open(byte[] bytes, JsonObject metadata, int lanes, int threadsPerLane) throws IOException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    OrtSession[] sessions = new OrtSession[Math.max(1, lanes)];
    try (OrtSession.SessionOptions options = sessionOptions(threadsPerLane)) {
      for (int i = 0; i < sessions.length; i++) {
        sessions[i] = env.createSession(bytes, options);
      }
    } catch (OrtException e) {
      closeAll(sessions);
      throw new IOException("ONNX Runtime refused model " + metadata.getString("version") + ": " + e.getMessage(), e);
    }
    return new OnnxModel(metadata.copy(), sessions);
  }

  /**
   * A lane's session options: {@code threadsPerLane} intra-op threads (the lane's caller plus
   * threadsPerLane - 1 workers) that sleep instead of spinning while they wait.
   *
   * <p>The count is always explicit. Left at 0, ONNX Runtime 1.23.2 runs one thread on this 2-vCPU
   * host (the process has no worker thread, and batch 128 gives the same images per CPU-second as an
   * explicit 1), which is why "its own pool" once looked slow in isolation (1 thread against 2) and
   * good under HTTP load (no second thread competing with the event loop).
   *
   * <p>Spinning off: with spinning (ONNX Runtime's default) a waiting thread burns its core, which on a
   * shared 2-core machine is the core the event loop, the other thread of the pool or another process
   * needs. Measured 2026-12-01 19:20-19:40 UTC with the shipped model, 2 threads, fresh JVMs
   * alternating at load 8-15: CPU per single image 1.07-1.43 ms spinning against 0.49-0.70 ms
   * not; single-image p90 6.5-12.9 vs 0.53-0.94 ms; {@code cifar-serve-bench --quick --only inference}
   * p90/p99 1.1-1.8 / 4.8-9.5 ms against 4.6-5.8 / 18-47 ms with the implicit single thread.
   * Open question: on a quiet host the experiment's closed run at c=4 reached 1,851 (function) and
   * 1,791 (node) req/s with this setting against 2,204 and 2,042 with the single thread (different
   * runs, 21:00 vs 18:00 UTC), while its p99 at 70 % of capacity fell; a same-run A/B should decide.
   */
  static OrtSession.SessionOptions sessionOptions(int threadsPerLane) throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    try {
      options.setIntraOpNumThreads(Math.max(1, threadsPerLane));
      options.addConfigEntry(ALLOW_SPINNING, "0");
      options.setInterOpNumThreads(1);
      options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      return options;
    } catch (OrtException | RuntimeException e) {
      options.close();
      throw e;
    }
  }

  @Override
  public String version() {
    return metadata.getString("version");
  }

  public JsonObject metadata() {
    return metadata.copy();
  }

  public int lanes() {
    return sessions.length;
  }

  /** A direct buffer in native order for up to {@code images} images: a lane allocates one and reuses it. */
  public static FloatBuffer inputBuffer(int images) {
    return ByteBuffer.allocateDirect(images * CifarImages.PIXELS_PER_IMAGE * Float.BYTES)
        .order(ByteOrder.nativeOrder()).asFloatBuffer();
  }

  /**
   * Class probabilities (one row of 10 per image) for the first {@code count} images in {@code pixels}
   * (CHW, 0-1, from position 0), run on lane {@code lane}'s session. Only one thread per lane at a time.
   */
  @Override
  public float[][] predict(int lane, FloatBuffer pixels, int count) {
    int values = count * CifarImages.PIXELS_PER_IMAGE;
    if (count < 1 || pixels.capacity() < values) {
      throw new IllegalArgumentException("expected " + count + " images of " + CifarImages.PIXELS_PER_IMAGE
          + " values, the buffer holds " + pixels.capacity());
    }
    FloatBuffer input = pixels.duplicate().position(0).limit(values);
    long[] shape = {count, IMAGE_SHAPE[0], IMAGE_SHAPE[1], IMAGE_SHAPE[2]};
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OnnxTensor tensor = OnnxTensor.createTensor(env, input, shape);
         OrtSession.Result result = sessions[lane].run(Map.of(INPUT, tensor))) {
      return (float[][]) result.get(0).getValue();
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime failed on " + count + " images: " + e.getMessage(), e);
    }
  }

  /** For one caller (tests, tools): lane 0, {@code count} CHW byte images from image {@code from}, a fresh buffer. */
  public float[][] predictBytes(byte[] chw, int from, int count) {
    FloatBuffer buffer = inputBuffer(count);
    putUnitPixels(chw, from * CifarImages.PIXELS_PER_IMAGE, count * CifarImages.PIXELS_PER_IMAGE, buffer);
    return predict(0, buffer, count);
  }

  /**
   * Takes a reference for one batch; false once the model has been retired and closed (the caller
   * then uses the model that replaced it).
   */
  @Override
  public boolean retain() {
    int n;
    do {
      n = references.get();
      if (n <= 0) {
        return false;
      }
    } while (!references.compareAndSet(n, n + 1));
    return true;
  }

  /** Gives back a reference taken by {@link #retain}; the last one closes the sessions. */
  @Override
  public void release() {
    if (references.decrementAndGet() == 0) {
      closeAll(sessions);
    }
  }

  /** This model has been replaced: close it once no batch holds it. */
  @Override
  public void retire() {
    release();
  }

  /** Closes the sessions now: only when no thread predicts with this model (else {@link #retire}). */
  @Override
  public void close() {
    if (references.getAndSet(0) > 0) {
      closeAll(sessions);
    }
  }

  private static void closeAll(OrtSession[] sessions) {
    for (OrtSession session : sessions) {
      if (session != null) {
        try {
          session.close();
        } catch (OrtException e) {
          // closing frees native memory; a failure leaves nothing for the caller to do
        }
      }
    }
  }

  /** Hex SHA-256 of the bytes (as {@link ArtifactCheck#sha256} computes it for files). */
  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  /** Pixels 0-255 (CHW bytes) as the graph's 0-1 input, appended at the buffer's position. */
  public static void putUnitPixels(byte[] chw, int from, int length, FloatBuffer out) {
    for (int i = from; i < from + length; i++) {
      out.put((chw[i] & 0xff) / 255f); // as OnnxVerification scales them
    }
  }
}
