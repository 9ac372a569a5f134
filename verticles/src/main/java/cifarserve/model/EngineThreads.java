package cifarserve.model;

import org.nd4j.nativeblas.NativeOpsHolder;

/**
 * How many cores one prediction may use, set per thread. oneDNN (the compiled chains) and libnd4j run
 * their parallel regions on the calling thread's OpenMP team, whose size is a per-thread setting
 * ({@code omp_set_num_threads} affects only the calling thread). So an inference lane's thread can
 * use one core while training, in the same JVM, keeps all of them.
 */
public final class EngineThreads {
  private EngineThreads() {
  }

  /** Parallel regions started from this thread use at most {@code threads} threads (ND4J must be loaded). */
  public static void limitCallingThread(int threads) {
    NativeOpsHolder.getInstance().getDeviceNativeOps().setOmpNumThreads(Math.max(1, threads));
  }
}
