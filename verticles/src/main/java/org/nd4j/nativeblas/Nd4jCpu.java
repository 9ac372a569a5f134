package org.nd4j.nativeblas;

/**
 * Compatibility shim for a Deeplearning4j 1.0.0-M2.1 bug: its layer helpers decide whether oneDNN
 * is usable by reflecting on {@code org.nd4j.nativeblas.Nd4jCpu$Environment}, a class that moved to
 * {@code org.nd4j.linalg.cpu.nativecpu.bindings} in that release. Without this class the lookup fails,
 * every ConvolutionLayer/SubsamplingLayer falls back to DL4J's slow built-in path, and training runs
 * ~6x slower. This answers the question from the real environment. Remove when DL4J is upgraded.
 */
public final class Nd4jCpu {
  private Nd4jCpu() {
  }

  /** The single method DL4J calls, delegating to the real native environment. */
  public static final class Environment {
    private static final Environment INSTANCE = new Environment();

    private Environment() {
    }

    public static Environment getInstance() {
      return INSTANCE;
    }

    public boolean isUseMKLDNN() {
      return org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu.Environment.getInstance().isUseONEDNN();
    }
  }
}
