package cifarserve.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

import cifarserve.data.CifarImages;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Tag;

/**
 * The batcher on its own: no HTTP, no event bus, no trained model. {@link GatedModel} answers each image
 * with its first pixel value (so answers can be matched to requests) and can hold batches on a gate to
 * keep lanes busy.
 */
@Tag("unit")
class BatcherTest {
  private static final long FAR = TimeUnit.SECONDS.toNanos(30);
  private Batcher batcher;

  @AfterEach
  void close() {
    if (batcher != null) {
      batcher.close();
    }
  }

  /** One image whose pixels are all {@code value}; the model answers it with {@code value / 255}. */
  private static ImageBatch image(int value) {
    byte[] chw = new byte[CifarImages.PIXELS_PER_IMAGE];
    java.util.Arrays.fill(chw, (byte) value);
    return ImageBatch.ofBytes(chw);
  }

  private static ImageBatch images(int count, int value) {
    byte[] chw = new byte[count * CifarImages.PIXELS_PER_IMAGE];
    java.util.Arrays.fill(chw, (byte) value);
    return ImageBatch.ofBytes(chw);
  }

  private static Batcher.Result await(CompletableFuture<Batcher.Result> answer) throws Exception {
    return answer.get(10, TimeUnit.SECONDS);
  }

  private static BatchFailure.Reason failureOf(CompletableFuture<Batcher.Result> answer) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> answer.get(10, TimeUnit.SECONDS));
    assertThat(e.getCause()).isInstanceOf(BatchFailure.class);
    return ((BatchFailure) e.getCause()).reason();
  }

  private Batcher start(int maxBatch, long maxDelayMs, int queue, int lanes, GatedModel model) {
    batcher = new Batcher(new Batcher.Settings(maxBatch, TimeUnit.MILLISECONDS.toNanos(maxDelayMs), queue, lanes),
        BatchListener.NONE);
    batcher.swap(model);
    return batcher;
  }

  /** Starts a batch of one image that holds its lane until the model's gate opens. */
  private CompletableFuture<Batcher.Result> holdLane(GatedModel model) throws InterruptedException {
    CompletableFuture<Batcher.Result> running = batcher.submit(image(1), System.nanoTime() + FAR);
    model.awaitRunning(1);
    return running;
  }

  @Test
  void aLoneRequestRunsAtOnceAndGetsItsOwnAnswer() throws Exception {
    GatedModel model = new GatedModel("v1", false);
    start(8, 0, 16, 1, model);
    Batcher.Result result = await(batcher.submit(image(51), System.nanoTime() + FAR));
    assertThat(result.version()).isEqualTo("v1");
    assertThat(result.probabilities()).hasDimensions(1, 10);
    assertThat(result.probabilities()[0][0]).isEqualTo(51 / 255f);
    assertThat(model.batchSizes).containsExactly(1);
  }

  @Test
  void arrivalsWhileTheLaneIsBusyGoTogetherInTheNextBatch() throws Exception {
    GatedModel model = new GatedModel("v1", true);
    start(8, 0, 64, 1, model);
    CompletableFuture<Batcher.Result> first = holdLane(model);
    List<CompletableFuture<Batcher.Result>> waiting = new ArrayList<>();
    for (int i = 2; i <= 4; i++) {
      waiting.add(batcher.submit(image(i), System.nanoTime() + FAR));
    }
    assertThat(batcher.queuedImages()).isEqualTo(3);
    model.gate.release(2);
    assertThat(await(first).probabilities()[0][0]).isEqualTo(1 / 255f);
    for (int i = 0; i < waiting.size(); i++) {
      assertThat(await(waiting.get(i)).probabilities()[0][0]).isEqualTo((i + 2) / 255f);
    }
    assertThat(model.batchSizes).containsExactly(1, 3);
  }

  @Test
  void aBatchNeverExceedsMaxBatchSizeButOneLargeRequestRunsWhole() throws Exception {
    GatedModel model = new GatedModel("v1", true);
    start(4, 0, 64, 1, model);
    CompletableFuture<Batcher.Result> blocker = holdLane(model);
    List<CompletableFuture<Batcher.Result>> small = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      small.add(batcher.submit(image(2), System.nanoTime() + FAR));
    }
    CompletableFuture<Batcher.Result> large = batcher.submit(images(9, 3), System.nanoTime() + FAR);
    model.gate.release(10);
    await(blocker);
    for (CompletableFuture<Batcher.Result> f : small) {
      await(f);
    }
    assertThat(await(large).probabilities()).hasNumberOfRows(9);
    assertThat(model.batchSizes).containsExactly(1, 4, 2, 9);
  }

  @Test
  void aFullQueueRejectsAtOnceAndTheQueuedStillRun() throws Exception {
    GatedModel model = new GatedModel("v1", true);
    start(8, 0, 2, 1, model);
    CompletableFuture<Batcher.Result> running = holdLane(model);
    CompletableFuture<Batcher.Result> a = batcher.submit(image(2), System.nanoTime() + FAR);
    CompletableFuture<Batcher.Result> b = batcher.submit(image(3), System.nanoTime() + FAR);
    CompletableFuture<Batcher.Result> overflow = batcher.submit(image(4), System.nanoTime() + FAR);
    assertThat(failureOf(overflow)).isEqualTo(BatchFailure.Reason.QUEUE_FULL);
    assertThat(BatchFailure.Reason.QUEUE_FULL.statusCode).isEqualTo(503);
    model.gate.release(2);
    await(running);
    assertThat(await(a).probabilities()[0][0]).isEqualTo(2 / 255f);
    assertThat(await(b).probabilities()[0][0]).isEqualTo(3 / 255f);
  }

  @Test
  void requestsWhoseDeadlinePassedInTheQueueFailUnrun() throws Exception {
    GatedModel model = new GatedModel("v1", true);
    start(8, 0, 16, 1, model);
    CompletableFuture<Batcher.Result> running = holdLane(model);
    CompletableFuture<Batcher.Result> late = batcher.submit(image(2), System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(1));
    CompletableFuture<Batcher.Result> onTime = batcher.submit(image(3), System.nanoTime() + FAR);
    Thread.sleep(5); // let the short deadline pass while the lane is held
    model.gate.release(2);
    await(running);
    assertThat(failureOf(late)).isEqualTo(BatchFailure.Reason.TIMEOUT);
    assertThat(await(onTime).probabilities()[0][0]).isEqualTo(3 / 255f);
    assertThat(model.batchSizes).containsExactly(1, 1);
  }

  @Test
  void beforeAnyModelRequestsFailNotReady() {
    batcher = new Batcher(new Batcher.Settings(8, 0, 16, 1), BatchListener.NONE);
    assertThat(failureOf(batcher.submit(image(1), System.nanoTime() + FAR))).isEqualTo(BatchFailure.Reason.NOT_READY);
  }

  @Test
  void severalLanesRunBatchesAtTheSameTime() throws Exception {
    GatedModel model = new GatedModel("v1", true);
    start(8, 0, 16, 2, model);
    CompletableFuture<Batcher.Result> a = batcher.submit(image(1), System.nanoTime() + FAR);
    CompletableFuture<Batcher.Result> b = batcher.submit(image(2), System.nanoTime() + FAR);
    model.awaitRunning(2); // both held at once: two lanes
    assertThat(model.lanesSeen).containsExactlyInAnyOrder(0, 1);
    model.gate.release(2);
    await(a);
    await(b);
  }

  @Test
  void aSwapDuringABatchLetsItFinishOnTheOldModelWhichIsFreedAfterwards() throws Exception {
    GatedModel old = new GatedModel("v1", true);
    start(8, 0, 16, 1, old);
    CompletableFuture<Batcher.Result> during = holdLane(old);
    GatedModel next = new GatedModel("v2", false);
    batcher.swap(next);
    assertThat(old.freed.get()).as("held by the running batch").isZero();
    old.gate.release();
    assertThat(await(during).version()).isEqualTo("v1");
    assertThat(await(batcher.submit(image(2), System.nanoTime() + FAR)).version()).isEqualTo("v2");
    assertThat(old.freed.get()).isEqualTo(1);
    assertThat(next.freed.get()).isZero();
  }

  @Test
  void withBusyTrafficAShortBatchWaitsForTheFillTimerThenRuns() throws Exception {
    GatedModel model = new GatedModel("v1", false);
    start(64, 200, 256, 1, model);
    // Arrivals far faster than one per 200 ms: the batcher lets a short batch wait to fill.
    List<CompletableFuture<Batcher.Result>> answers = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      answers.add(batcher.submit(image(i), System.nanoTime() + FAR));
    }
    for (CompletableFuture<Batcher.Result> f : answers) {
      await(f); // nothing is stranded: the fill timer dispatches what waits
    }
    assertThat(model.batchSizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(5);
    assertThat(model.batchSizes.size()).as("later arrivals were batched").isLessThan(5);
  }

  @Test
  void aFailingModelFailsItsBatchAndTheLaneServesOn() throws Exception {
    GatedModel model = new GatedModel("v1", false);
    model.failNext.set(true);
    start(8, 0, 16, 1, model);
    assertThat(failureOf(batcher.submit(image(1), System.nanoTime() + FAR))).isEqualTo(BatchFailure.Reason.FAILED);
    assertThat(await(batcher.submit(image(2), System.nanoTime() + FAR)).probabilities()[0][0]).isEqualTo(2 / 255f);
    assertThat(batcher.load()).isZero();
  }

  /** Answers every image with its first value in column 0; optionally holds each batch until released. */
  private static final class GatedModel implements Batcher.Model {
    final String version;
    final boolean gated;
    final Semaphore gate = new Semaphore(0);
    final Semaphore running = new Semaphore(0);
    final List<Integer> batchSizes = new CopyOnWriteArrayList<>();
    final List<Integer> lanesSeen = new CopyOnWriteArrayList<>();
    final AtomicInteger holders = new AtomicInteger();
    volatile boolean retired;
    final AtomicInteger freed = new AtomicInteger();
    final java.util.concurrent.atomic.AtomicBoolean failNext = new java.util.concurrent.atomic.AtomicBoolean();

    GatedModel(String version, boolean gated) {
      this.version = version;
      this.gated = gated;
    }

    void awaitRunning(int batches) throws InterruptedException {
      assertThat(running.tryAcquire(batches, 10, TimeUnit.SECONDS)).as(batches + " batch(es) running").isTrue();
    }

    @Override
    public String version() {
      return version;
    }

    @Override
    public float[][] predict(int lane, FloatBuffer input, int count) {
      batchSizes.add(count);
      lanesSeen.add(lane);
      running.release();
      if (gated) {
        try {
          if (!gate.tryAcquire(10, TimeUnit.SECONDS)) {
            throw new IllegalStateException("gate never opened");
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
      if (failNext.getAndSet(false)) {
        throw new IllegalStateException("model failure");
      }
      float[][] rows = new float[count][10];
      for (int i = 0; i < count; i++) {
        rows[i][0] = input.get(i * CifarImages.PIXELS_PER_IMAGE);
      }
      return rows;
    }

    @Override
    public boolean retain() {
      if (freed.get() > 0) {
        return false;
      }
      holders.incrementAndGet();
      return true;
    }

    @Override
    public void release() {
      if (holders.decrementAndGet() == 0 && retired) {
        freed.incrementAndGet();
      }
    }

    @Override
    public void retire() {
      retired = true;
      if (holders.get() == 0) {
        freed.incrementAndGet();
      }
    }
  }
}
