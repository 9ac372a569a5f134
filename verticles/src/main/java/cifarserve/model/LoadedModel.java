package cifarserve.model;

import cifarserve.data.CifarClasses;
import cifarserve.data.CifarImages;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A trained network with its metadata, and the fastest way this build has to run it.
 *
 * <p>Predictions go through {@link OneDnnForward} chains compiled from the network's weights, one per
 * power-of-two batch size up to {@link #MAX_COMPILED_BATCH} (other sizes run as the cheapest
 * {@link #plan plan} of those), each compiled on first use. Where no chain can be compiled
 * (another layer stack, or no oneDNN bindings), single images take {@link SmallBatchForward} and
 * batches DL4J's {@code network.output}. The weights are copied when a chain is compiled: a
 * LoadedModel is a snapshot, so its network must not be trained further.
 *
 * <p>Several threads may predict at once: each thread compiles and uses chains of its own (they hold
 * per-call buffers), and DL4J's fallback path, whose network keeps per-call state, runs one thread at
 * a time. The inference verticle runs one thread per lane ({@code inference.lanes}). A model that is
 * replaced is {@link #retire retired}: its native memory is freed once the last prediction that
 * {@link #retain retained} it has {@link #release released} it.
 */
public final class LoadedModel implements AutoCloseable {
  /** {@code -Dcifar.smallBatchGemv=false} turns the small-batch path off (for before/after benchmarks). */
  static final String SMALL_BATCH_PROPERTY = "cifar.smallBatchGemv";
  /** {@code -Dcifar.onednn=false} turns the compiled oneDNN chains off (for before/after benchmarks). */
  static final String ONEDNN_PROPERTY = "cifar.onednn";
  /**
   * Largest compiled batch. Chains are compiled for powers of two only, so at most 7 exist (1..64; each
   * costs 50-100 ms to compile and up to ~40 MB of buffers and reordered weights); other batch sizes
   * run as a {@link #plan plan} of those. 64 is the service's default maxBatchSize; measured throughput
   * stops growing above 32 (docs/performance.md).
   */
  public static final int MAX_COMPILED_BATCH = 64;
  private static final int CHAIN_SLOTS = Integer.numberOfTrailingZeros(MAX_COMPILED_BATCH) + 1;
  /**
   * Milliseconds one execution of the chain for 1, 2, 4, ... 64 images took (p50, 2 threads, the
   * 2-core AMD EPYC (AVX2) test host; only their ratios matter). A chain's cost is far from
   * proportional to its size: the chain for 2 costs 3 times the chain for 1, and every execution
   * streams all weights (8.7 MB) again, so 31 images as 16+8+4+2+1 took 20.6 ms where 32 took 16.8 ms.
   */
  static final double[] CHAIN_COST_MS = {0.93, 2.76, 3.6, 5.5, 9.1, 17.4, 33.3};
  /** PLANS[n]: the chain sizes that run n images (1..MAX_COMPILED_BATCH) at the least estimated cost. */
  private static final int[][] PLANS = cheapestPlans();
  private static final long[] IMAGE_CHW = {CifarImages.CHANNELS, CifarImages.SIDE, CifarImages.SIDE};

  private final JsonObject metadata;
  private final MultiLayerNetwork network;
  private final SmallBatchForward smallBatch;

  /** This thread's compiled chains by log2 of their batch size; null until first used. */
  private final ThreadLocal<OneDnnForward[]> compiled = ThreadLocal.withInitial(() -> new OneDnnForward[CHAIN_SLOTS]);
  /** Every thread's chains, to free them together. */
  private final List<OneDnnForward> allChains = new ArrayList<>();
  /** The engine and reordered weights all of this model's chains share (guarded by allChains). */
  private OneDnnForward.Shared shared;
  private volatile boolean compiledUnavailable;
  /** The owner's reference plus one per prediction in flight; at 0 the chains are freed. */
  private final AtomicInteger references = new AtomicInteger(1);

  public LoadedModel(JsonObject metadata, MultiLayerNetwork network) {
    this(metadata, network, !"false".equalsIgnoreCase(System.getProperty(ONEDNN_PROPERTY)),
        !"false".equalsIgnoreCase(System.getProperty(SMALL_BATCH_PROPERTY)));
  }

  /** With the compiled chains and the single-image GEMV path each switched on or off. */
  LoadedModel(JsonObject metadata, MultiLayerNetwork network, boolean compiledChains, boolean smallBatchPath) {
    this.metadata = metadata;
    this.network = network;
    this.smallBatch = smallBatchPath ? SmallBatchForward.of(network).orElse(null) : null;
    this.compiledUnavailable = !compiledChains;
  }

  public String version() {
    return metadata.getString("version");
  }

  public JsonObject metadata() {
    return metadata.copy();
  }

  /**
   * Whether predictions run through compiled oneDNN chains (compiles the single-image chain if it was
   * not yet: call it on the predicting thread).
   */
  public boolean usesCompiledChains() {
    return chainFor(1) != null;
  }

  /** Whether batches of up to {@link SmallBatchForward#MAX_IMAGES} images take the GEMV path. */
  public boolean hasSmallBatchPath() {
    return smallBatch != null;
  }

  public MultiLayerNetwork network() {
    return network;
  }

  /**
   * Class probabilities for {@code count} standardised CHW images (see {@link Normalization}).
   * Returns one row of 10 probabilities per image.
   */
  public float[][] predict(float[] standardisedChw, int count) {
    if (standardisedChw.length != count * CifarImages.PIXELS_PER_IMAGE) {
      throw new IllegalArgumentException("expected " + count + " images of " + CifarImages.PIXELS_PER_IMAGE
          + " values, got " + standardisedChw.length + " values");
    }
    float[][] compiledRows = count > 0 ? predictCompiled(standardisedChw, count) : null;
    if (compiledRows != null) {
      return compiledRows;
    }
    synchronized (network) {
      INDArray input = Nd4j.create(standardisedChw,
          new long[] {count, CifarImages.CHANNELS, CifarImages.SIDE, CifarImages.SIDE}, 'c');
      INDArray output = smallBatch != null && count <= SmallBatchForward.MAX_IMAGES
          ? smallBatch.output(input)
          : network.output(input, false);
      float[][] rows = new float[count][];
      for (int i = 0; i < count; i++) {
        rows[i] = output.getRow(i).toFloatVector();
      }
      return rows;
    }
  }

  /** The rows through compiled chains, or null when no chain can be compiled (then DL4J's path runs). */
  private float[][] predictCompiled(float[] standardisedChw, int count) {
    float[][] rows = new float[count][];
    int done = 0;
    for (int chainSize : plan(count)) {
      int n = Math.min(chainSize, count - done); // a plan's last chain may run short (padded)
      OneDnnForward chain = chainFor(chainSize);
      if (chain == null) {
        return null;
      }
      float[] part = n == count ? standardisedChw : Arrays.copyOfRange(standardisedChw,
          done * CifarImages.PIXELS_PER_IMAGE, (done + n) * CifarImages.PIXELS_PER_IMAGE);
      System.arraycopy(chain.output(part, n), 0, rows, done, n);
      done += n;
    }
    return rows;
  }

  /**
   * The compiled chain sizes, largest first, that run {@code count} images at the least estimated
   * cost ({@link #CHAIN_COST_MS}); their sum may exceed {@code count}, the last chain then runs short.
   * E.g. 2 = 1 + 1 (the chain for 2 costs more than two runs of the chain for 1), 7 = 8,
   * 24 = 16 + 8, 31 = 32, 70 = 64 + 4 + 1 + 1.
   */
  static int[] plan(int count) {
    if (count <= MAX_COMPILED_BATCH) {
      return PLANS[count];
    }
    int full = (count - 1) / MAX_COMPILED_BATCH; // full chains of 64, then the cheapest plan of the rest
    int[] rest = PLANS[count - full * MAX_COMPILED_BATCH];
    int[] plan = new int[full + rest.length];
    Arrays.fill(plan, 0, full, MAX_COMPILED_BATCH);
    System.arraycopy(rest, 0, plan, full, rest.length);
    return plan;
  }

  /** Dynamic programming over 0..64 images: the cheapest chain to run first, then the best plan of the rest. */
  private static int[][] cheapestPlans() {
    double[] cost = new double[MAX_COMPILED_BATCH + 1];
    int[] first = new int[MAX_COMPILED_BATCH + 1];
    for (int n = 1; n <= MAX_COMPILED_BATCH; n++) {
      cost[n] = Double.MAX_VALUE;
      for (int slot = 0; slot < CHAIN_SLOTS; slot++) {
        int size = 1 << slot;
        double candidate = CHAIN_COST_MS[slot] + cost[Math.max(0, n - size)];
        if (candidate < cost[n] - 1e-9) { // on a tie the smaller chain wins: less padding
          cost[n] = candidate;
          first[n] = size;
        }
      }
    }
    int[][] plans = new int[MAX_COMPILED_BATCH + 1][];
    plans[0] = new int[0];
    for (int n = 1; n <= MAX_COMPILED_BATCH; n++) {
      List<Integer> parts = new ArrayList<>();
      for (int left = n; left > 0; left -= first[left]) {
        parts.add(first[left]);
      }
      parts.sort(Comparator.reverseOrder());
      plans[n] = parts.stream().mapToInt(Integer::intValue).toArray();
    }
    return plans;
  }

  /** The compiled chain for batches of {@code count} images, compiling it now if needed; null if none can be. */
  private OneDnnForward chainFor(int count) {
    if (compiledUnavailable) {
      return null;
    }
    int slot = 32 - Integer.numberOfLeadingZeros(count - 1); // ceil(log2(count))
    OneDnnForward[] mine = compiled.get();
    if (mine[slot] == null || mine[slot].isClosed()) { // closed: freed by close() on some thread
      OneDnnForward chain = compile(1 << slot);
      if (chain == null) {
        compiledUnavailable = true;
        return null;
      }
      mine[slot] = chain;
    }
    return mine[slot];
  }

  private OneDnnForward compile(int batch) {
    OneDnnForward.Shared engine;
    synchronized (allChains) {
      if (shared == null) {
        shared = OneDnnForward.Shared.create().orElse(null);
        if (shared == null) {
          return null;
        }
      }
      engine = shared;
    }
    // Compiled outside the lock (50-100 ms): other threads compile their own meanwhile.
    OneDnnForward chain = OneDnnForward.of(network, batch, IMAGE_CHW, engine).orElse(null);
    if (chain != null) {
      synchronized (allChains) {
        allChains.add(chain);
      }
    }
    return chain;
  }

  /**
   * Takes a reference for one prediction; false once the model has been retired and freed (the caller
   * then uses the model that replaced it).
   */
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

  /** Gives back a reference taken by {@link #retain}. */
  public void release() {
    if (references.decrementAndGet() == 0) {
      close();
    }
  }

  /** This model has been replaced: free it once no prediction holds it. */
  public void retire() {
    release();
  }

  /**
   * Frees every thread's compiled chains now (they are compiled again if the model predicts later).
   * Only while no thread is predicting with it: a replaced model goes through {@link #retire} instead.
   */
  @Override
  public void close() {
    synchronized (allChains) {
      allChains.forEach(OneDnnForward::close);
      allChains.clear();
      if (shared != null) {
        shared.close(); // after every chain that used it
        shared = null;
      }
    }
  }

  /** Index of the largest probability. */
  public static int argMax(float[] probabilities) {
    int best = 0;
    for (int i = 1; i < probabilities.length; i++) {
      if (probabilities[i] > probabilities[best]) {
        best = i;
      }
    }
    return best;
  }

  /**
   * Class name to probability. Written as floats (what the network computes, ~9 significant digits):
   * widened to double they print 17 digits of which 8 are noise, and those cost every client more to
   * read (a load tester counting accuracy spent 16 % of its CPU converting them).
   */
  public static JsonObject probabilitiesJson(float[] probabilities) {
    JsonObject out = new JsonObject();
    for (int i = 0; i < CifarClasses.COUNT; i++) {
      out.put(CifarClasses.name(i), probabilities[i]);
    }
    return out;
  }
}
