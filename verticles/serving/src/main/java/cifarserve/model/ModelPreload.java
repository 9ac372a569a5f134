package cifarserve.model;

import ai.onnxruntime.OrtEnvironment;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the serving model on a thread of its own while the rest of the process starts (Vert.x, HTTP,
 * metrics), so a cold start is ready after the longer of the two instead of their sum. ONNX Runtime's
 * native library and environment come up first ({@link #begin}, from the first line of main), the
 * newest servable artifact's sessions once the config is known ({@link #load}); each lane's session
 * then runs one image, so the first request does not pay for ONNX Runtime's first run.
 *
 * <p>For a process that serves its own model folder only (the function): the artifact goes through the
 * same checks as any local load, its ONNX file read and hashed once ({@link ArtifactStore#loadNewestServable}).
 */
public final class ModelPreload {
  /** One short-lived daemon thread per step: nothing here may keep the JVM alive. */
  private static final Executor OWN_THREAD = task -> {
    Thread thread = new Thread(task, "model-preload");
    thread.setDaemon(true);
    thread.start();
  };

  private static final Logger LOG = LoggerFactory.getLogger(ModelPreload.class);

  private final long began = System.nanoTime();
  private final CompletableFuture<Void> runtime;

  private ModelPreload(CompletableFuture<Void> runtime) {
    this.runtime = runtime;
  }

  /** Starts ONNX Runtime now (its native library and environment: ~0.1 s of CPU on a cold JVM). */
  public static ModelPreload begin() {
    return new ModelPreload(CompletableFuture.runAsync(OrtEnvironment::getEnvironment, OWN_THREAD));
  }

  /**
   * The newest servable artifact of {@code store} as a warmed-up model, or empty when the folder has
   * none; an artifact that fails its checks is skipped for the next older one, ONNX Runtime refusing one fails.
   */
  public CompletionStage<Optional<OnnxModel>> load(ArtifactStore store, int lanes, int threadsPerLane) {
    CompletableFuture<Optional<OnnxModel>> loaded = new CompletableFuture<>();
    runtime.whenCompleteAsync((ready, failure) -> {
      if (failure != null) { // e.g. the native library did not load: the cause, not its wrapper
        loaded.completeExceptionally(failure instanceof CompletionException wrapped ? wrapped.getCause() : failure);
        return;
      }
      try {
        long loading = System.nanoTime();
        Optional<OnnxModel> model = loadNewest(store, lanes, threadsPerLane);
        model.ifPresent(m -> LOG.info("Model {} preloaded in {} ms (ONNX Runtime up after {} ms)", m.version(),
            (System.nanoTime() - began) / 1_000_000, (loading - began) / 1_000_000));
        loaded.complete(model);
      } catch (IOException | RuntimeException e) {
        loaded.completeExceptionally(e);
      }
    }, OWN_THREAD);
    return loaded;
  }

  private static Optional<OnnxModel> loadNewest(ArtifactStore store, int lanes, int threadsPerLane) throws IOException {
    Optional<OnnxModel> loaded = store.loadNewestServable(lanes, threadsPerLane);
    loaded.ifPresent(model -> {
      try {
        runOnce(model);
      } catch (RuntimeException e) {
        model.close();
        throw e;
      }
    });
    return loaded;
  }

  /** One blank image through every lane's session: ONNX Runtime's first run allocates and plans. */
  private static void runOnce(OnnxModel model) {
    FloatBuffer blank = OnnxModel.inputBuffer(1);
    for (int lane = 0; lane < model.lanes(); lane++) {
      model.predict(lane, blank, 1);
    }
  }
}
