package cifarserve.inference;

import cifarserve.model.OnnxModel;
import java.nio.FloatBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Dynamic batching in plain Java (as Triton and TorchServe do) behind a {@link CompletableFuture} API,
 * with no HTTP or event-bus types. The queue is bounded (overflow fails at once: QUEUE_FULL). When a
 * lane is free, queued images go at once, so a lone request never waits; while every lane is busy,
 * arrivals accumulate and go together, up to {@code maxBatchSize} images. Only when requests arrive
 * faster than one per {@code maxDelayNanos} does a short batch wait (at most that long) to fill.
 * Requests whose deadline passed in the queue fail unrun (TIMEOUT). A batch holds a reference to the
 * current model for its whole run ({@link Model#retain}), so it never sees two models; a replaced model
 * frees itself when its last batch ends.
 */
public final class Batcher implements AutoCloseable {
  /** What the batcher runs: {@link OnnxModel} in the service. */
  public interface Model {
    String version();

    /** Probabilities for the first {@code count} images of {@code input}; one thread per lane at a time. */
    float[][] predict(int lane, FloatBuffer input, int count);

    /** A reference for one batch; false once retired and freed (its successor is already current). */
    boolean retain();

    void release();

    /** Replaced: free yourself once no batch holds you. */
    void retire();
  }

  public record Settings(int maxBatchSize, long maxDelayNanos, int queueCapacity, int lanes) { }

  /** One request's answer: the probabilities of its images and the model version that computed them. */
  public record Result(String version, float[][] probabilities) {
  }

  private record Pending(ImageBatch images, long enqueuedNanos, long deadlineNanos, CompletableFuture<Result> answer) {
  }

  private final Settings settings;
  private final BatchListener listener;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private final Lane[] lanes;
  private final ScheduledExecutorService fillTimer;
  private final Object lock = new Object();
  private volatile Model model;
  // Guarded by lock.
  private int queuedImages;
  private int runningImages;
  private ScheduledFuture<?> pendingFill;
  private long lastArrivalNanos;
  private double meanGapNanos = Double.MAX_VALUE;

  public Batcher(Settings settings, BatchListener listener) {
    this.settings = settings;
    this.listener = listener;
    this.lanes = new Lane[Math.max(1, settings.lanes())];
    for (int i = 0; i < lanes.length; i++) {
      lanes[i] = new Lane(i, settings.maxBatchSize());
    }
    this.fillTimer = Executors.newSingleThreadScheduledExecutor(Lane.daemon("cifar-batch-fill"));
  }

  public int lanes() {
    return lanes.length;
  }

  /** The serving model, or null before the first {@link #swap}. */
  public Model current() {
    return model;
  }

  /** Images queued or running (cluster spill compares it with its threshold). */
  public int load() {
    synchronized (lock) {
      return queuedImages + runningImages;
    }
  }

  public int queuedImages() {
    synchronized (lock) {
      return queuedImages;
    }
  }

  /** Queues the images; the answer completes on a lane thread, or fails with a {@link BatchFailure}. */
  public CompletableFuture<Result> submit(ImageBatch images, long deadlineNanos) {
    if (model == null) {
      return rejected(BatchFailure.Reason.NOT_READY, "no model loaded yet");
    }
    CompletableFuture<Result> answer = new CompletableFuture<>();
    long now = System.nanoTime();
    synchronized (lock) {
      if (queuedImages + images.count() > settings.queueCapacity()) {
        answer = null;
      } else {
        if (lastArrivalNanos != 0) {
          double gap = now - lastArrivalNanos;
          meanGapNanos = meanGapNanos == Double.MAX_VALUE ? gap : 0.8 * meanGapNanos + 0.2 * gap;
        }
        lastArrivalNanos = now;
        queue.add(new Pending(images, now, deadlineNanos, answer));
        queuedImages += images.count();
      }
    }
    if (answer == null) {
      return rejected(BatchFailure.Reason.QUEUE_FULL, "inference queue full (" + settings.queueCapacity() + " images)");
    }
    dispatch();
    return answer;
  }

  /**
   * Runs one image through {@code next} on every lane (a session's first run allocates its buffers and
   * starts its threads: paid here, not in a user's request).
   */
  public CompletableFuture<Void> warmUp(Model next) {
    List<CompletableFuture<?>> runs = new ArrayList<>();
    for (Lane lane : lanes) {
      runs.add(CompletableFuture.runAsync(() -> next.predict(lane.index, lane.inputFor(1), 1), lane.thread));
    }
    return CompletableFuture.allOf(runs.toArray(CompletableFuture[]::new));
  }

  /** Makes {@code next} the serving model; the one it replaces is retired (freed after its last batch). */
  public void swap(Model next) {
    Model previous = model;
    model = next;
    if (previous != null) {
      previous.retire();
    }
    dispatch();
  }

  /** Starts batches on free lanes while there is work, unless a short batch should wait to fill. */
  private void dispatch() {
    while (true) {
      Lane lane;
      List<Pending> batch = new ArrayList<>();
      List<Pending> expired = new ArrayList<>();
      int images = 0;
      long now = System.nanoTime();
      synchronized (lock) {
        lane = freeLane();
        if (lane == null || queue.isEmpty()) {
          return;
        }
        long oldestWait = now - queue.peekFirst().enqueuedNanos();
        boolean full = queuedImages >= settings.maxBatchSize();
        boolean busyTraffic = meanGapNanos < settings.maxDelayNanos();
        if (!full && busyTraffic && oldestWait < settings.maxDelayNanos()) {
          if (pendingFill == null) {
            pendingFill = fillTimer.schedule(this::fillTimeUp, settings.maxDelayNanos() - oldestWait, TimeUnit.NANOSECONDS);
          }
          return;
        }
        if (pendingFill != null) {
          pendingFill.cancel(false);
          pendingFill = null;
        }
        while (!queue.isEmpty()) {
          Pending next = queue.peekFirst();
          if (!batch.isEmpty() && images + next.images().count() > settings.maxBatchSize()) {
            break;
          }
          queue.pollFirst();
          queuedImages -= next.images().count();
          if (now > next.deadlineNanos()) {
            expired.add(next);
            continue;
          }
          batch.add(next);
          images += next.images().count();
        }
        if (!batch.isEmpty()) {
          lane.busy = true;
          runningImages += images;
        }
      }
      for (Pending late : expired) {
        listener.rejected(BatchFailure.Reason.TIMEOUT);
        late.answer().completeExceptionally(new BatchFailure(BatchFailure.Reason.TIMEOUT, "deadline passed in the queue"));
      }
      for (Pending p : batch) {
        listener.queued(now - p.enqueuedNanos());
      }
      if (!batch.isEmpty()) {
        run(lane, batch, images);
      }
    }
  }

  private void fillTimeUp() {
    synchronized (lock) {
      pendingFill = null;
    }
    dispatch();
  }

  private Lane freeLane() {
    for (Lane lane : lanes) {
      if (!lane.busy) {
        return lane;
      }
    }
    return null;
  }

  private void run(Lane lane, List<Pending> batch, int images) {
    lane.thread.execute(() -> {
      Result result = null;
      BatchFailure failure = null;
      try {
        Model current = retainCurrent();
        long started = System.nanoTime();
        try {
          FloatBuffer input = lane.inputFor(images);
          for (Pending pending : batch) {
            pending.images().writeUnitInto(input);
          }
          result = new Result(current.version(), current.predict(lane.index, input, images));
        } finally {
          current.release();
        }
        listener.batchRun(images, System.nanoTime() - started);
      } catch (RuntimeException | Error e) {
        failure = new BatchFailure(BatchFailure.Reason.FAILED, "inference failed: " + e.getMessage(), e);
      }
      synchronized (lock) {
        runningImages -= images; // done before anyone hears of it: load() never counts answered work
      }
      try {
        answer(batch, result, failure);
      } finally {
        synchronized (lock) {
          lane.busy = false;
        }
        dispatch();
      }
    });
  }

  private static void answer(List<Pending> batch, Result result, BatchFailure failure) {
    int at = 0;
    for (Pending pending : batch) {
      if (failure != null) {
        pending.answer().completeExceptionally(failure);
        continue;
      }
      int count = pending.images().count();
      float[][] rows = new float[count][];
      System.arraycopy(result.probabilities(), at, rows, 0, count);
      at += count;
      pending.answer().complete(new Result(result.version(), rows));
    }
  }

  /** The current model with a reference held for one batch (a swap may retire it meanwhile). */
  private Model retainCurrent() {
    while (true) {
      Model current = model;
      if (current.retain()) {
        return current;
      }
      // Retired and freed between the read and retain(): the field already names its successor.
    }
  }

  private CompletableFuture<Result> rejected(BatchFailure.Reason reason, String message) {
    listener.rejected(reason);
    return CompletableFuture.failedFuture(new BatchFailure(reason, message));
  }

  /** Stops the lanes after the batches already started; what is still queued fails NOT_READY. */
  @Override
  public void close() {
    List<Pending> left;
    synchronized (lock) {
      left = new ArrayList<>(queue);
      queue.clear();
      queuedImages = 0;
    }
    left.forEach(p -> p.answer().completeExceptionally(new BatchFailure(BatchFailure.Reason.NOT_READY, "shutting down")));
    fillTimer.shutdownNow();
    for (Lane lane : lanes) {
      lane.thread.shutdown();
    }
  }
}
