package cifarserve.bench;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The training figure beside its reference: DL4J and the PyTorch reference in turn, {@code runs} times
 * each, every run a fresh process. A single pair on a shared 2-core host can be off by a third, so the
 * figures and their ratio are medians. The result is the median DL4J run's object, its images/s the
 * median of all runs, its peak RSS the highest of any run, with the reference's median run inside.
 */
final class TrainingComparison {
  /** One measured run in a fresh process: its JSON result. */
  interface Run {
    JsonObject measure() throws IOException, InterruptedException;
  }

  /**
   * Iterations both sides run: warm-up (excluded), then timed windows of equal length. A training run is
   * thousands of steps, so the figure is the steady state: 5 warm-up steps left the JIT and oneDNN's
   * kernels still settling (the first windows ran 15-30 % slower), and windows of 10 steps moved with
   * this VM's second-to-second speed; 20 and 5 x 30 settle both (DL4J ~30 s, PyTorch ~70 s a run).
   */
  record Schedule(int warmup, int windows, int iterations) {
    static final Schedule FULL = new Schedule(20, 5, 30);
    static final Schedule QUICK = new Schedule(3, 3, 4);

    static Schedule of(boolean quick) {
      return quick ? QUICK : FULL;
    }
  }

  private TrainingComparison() {
  }

  static JsonObject measure(int runs, Run dl4jRun, Run referenceRun, PrintStream out)
      throws IOException, InterruptedException {
    List<JsonObject> dl4j = new ArrayList<>();
    List<JsonObject> reference = new ArrayList<>();
    JsonObject unavailable = null;
    for (int r = 1; r <= runs; r++) {
      out.printf("training run %d of %d: DL4J, warm-up, then timed windows of network.fit(batch of 64 real images) ...%n",
          r, runs);
      dl4j.add(dl4jRun.measure());
      if (unavailable == null) {
        out.printf("training run %d of %d: the same network in PyTorch, same batch, same threads ...%n", r, runs);
        JsonObject one = referenceRun.measure();
        if (one.getBoolean("available")) {
          reference.add(one);
        } else {
          unavailable = one; // absent PyTorch stays absent: asked once, not once per run
        }
      }
      out.printf("  DL4J %.1f images/s%s%n", dl4j.get(r - 1).getDouble("imagesPerSecond"), reference.size() == r
          ? String.format(", PyTorch %.1f images/s", reference.get(r - 1).getDouble("imagesPerSecond")) : "");
    }
    JsonObject training = medianRun(dl4j);
    training.put("imagesPerCpuSecond", Samples.round(Samples.median(values(dl4j, "imagesPerCpuSecond")), 1));
    long peakRss = dl4j.stream().mapToLong(run -> run.getJsonObject("memory").getLong("vmHwmMb")).max().orElseThrow();
    training.getJsonObject("memory").put("vmHwmMb", peakRss);
    if (reference.isEmpty()) {
      return training.put("reference", unavailable);
    }
    JsonObject median = medianRun(reference);
    return training.put("reference", median).put("speedupOverReference",
        Samples.round(training.getDouble("imagesPerSecond") / median.getDouble("imagesPerSecond"), 2));
  }

  /** The run with the median images/s (the lower middle one of an even count), carrying the median and every run's figure. */
  static JsonObject medianRun(List<JsonObject> runs) {
    double[] rates = values(runs, "imagesPerSecond");
    List<JsonObject> sorted = new ArrayList<>(runs);
    sorted.sort(Comparator.comparingDouble(run -> run.getDouble("imagesPerSecond")));
    return sorted.get((sorted.size() - 1) / 2).copy()
        .put("runs", runs.size())
        .put("imagesPerSecond", Samples.round(Samples.median(rates), 1))
        .put("imagesPerSecondRuns", Samples.json(rates, 1));
  }

  private static double[] values(List<JsonObject> runs, String field) {
    return runs.stream().mapToDouble(run -> run.getDouble(field)).toArray();
  }
}
