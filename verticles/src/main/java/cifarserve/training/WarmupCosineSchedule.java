package cifarserve.training;

import org.nd4j.linalg.schedule.ISchedule;
import org.nd4j.shade.jackson.annotation.JsonCreator;
import org.nd4j.shade.jackson.annotation.JsonProperty;

/**
 * Learning rate per minibatch: a linear warm-up from {@code start} (one-cycle's base; with 0, from
 * {@code peak / warmupIterations}) to {@code peak}, then a half cosine down to {@code floor} at the last iteration. With a peak of the study's 0.01 it
 * keeps the study's rate as the highest one used; the warm-up avoids the early instability of
 * momentum SGD on freshly initialised weights, and the decay is what lifts the final accuracy.
 * Jackson properties so DL4J can store it in the network's configuration JSON.
 */
public final class WarmupCosineSchedule implements ISchedule {
  private final double peak;
  private final double floor;
  private final int warmupIterations;
  private final int totalIterations;
  private final double start;

  public WarmupCosineSchedule(double peak, double floor, int warmupIterations, int totalIterations) {
    this(peak, floor, warmupIterations, totalIterations, 0);
  }

  /** {@code start} absent from a stored configuration (models saved before it existed) reads as 0. */
  @JsonCreator
  public WarmupCosineSchedule(@JsonProperty("peak") double peak, @JsonProperty("floor") double floor,
                              @JsonProperty("warmupIterations") int warmupIterations,
                              @JsonProperty("totalIterations") int totalIterations,
                              @JsonProperty("start") double start) {
    if (!(peak > 0) || floor < 0 || floor > peak || warmupIterations < 0 || totalIterations <= warmupIterations
        || start < 0 || start > peak) {
      throw new IllegalArgumentException("bad schedule: peak " + peak + ", floor " + floor + ", start " + start
          + ", warm-up " + warmupIterations + " of " + totalIterations + " iterations");
    }
    this.start = start;
    this.peak = peak;
    this.floor = floor;
    this.warmupIterations = warmupIterations;
    this.totalIterations = totalIterations;
  }

  @Override
  public double valueAt(int iteration, int epoch) {
    if (iteration < warmupIterations) {
      return start > 0 ? start + (peak - start) * iteration / warmupIterations : peak * (iteration + 1) / warmupIterations;
    }
    int decaying = totalIterations - warmupIterations;
    double progress = Math.min(1.0, (iteration - warmupIterations) / (double) Math.max(1, decaying - 1));
    return floor + (peak - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
  }

  @Override
  public ISchedule clone() {
    return new WarmupCosineSchedule(peak, floor, warmupIterations, totalIterations, start);
  }

  @JsonProperty("peak")
  public double peak() {
    return peak;
  }

  @JsonProperty("floor")
  public double floor() {
    return floor;
  }

  @JsonProperty("warmupIterations")
  public int warmupIterations() {
    return warmupIterations;
  }

  @JsonProperty("start")
  public double start() {
    return start;
  }

  @JsonProperty("totalIterations")
  public int totalIterations() {
    return totalIterations;
  }

  @Override
  public String toString() {
    return "warm-up " + warmupIterations + " iterations from " + start + " to " + peak + ", cosine to " + floor + " at iteration "
        + totalIterations;
  }
}
