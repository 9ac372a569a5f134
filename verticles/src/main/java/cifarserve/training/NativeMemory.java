package cifarserve.training;

import java.lang.reflect.Method;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands a finished training run's native memory back to the system. Without this a node that trained
 * keeps it for good: the training thread's DL4J workspaces (activations and gradients of a minibatch)
 * stay allocated, the run's other off-heap arrays are freed only when a garbage collection happens to
 * find their Java wrappers (an idle node may not collect for hours), and what is freed stays in glibc's
 * malloc arenas. Called on the thread that trained, once its network is no longer needed.
 */
final class NativeMemory {
  private static final Logger LOG = LoggerFactory.getLogger(NativeMemory.class);

  private NativeMemory() {
  }

  /**
   * Frees the calling thread's DL4J workspaces, collects the arrays the run dropped and returns malloc's
   * free pages; logs and returns the change in resident set size, bytes. Call it on the thread that
   * trained, after the new model is announced: one full collection, once per run, off the path to serving
   * it, where the alternative is holding hundreds of MB until some later collection.
   */
  static long releaseAfterTraining() {
    long before = Pointer.physicalBytes();
    Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
    System.gc();
    trimMalloc();
    long after = Pointer.physicalBytes();
    LOG.info("Memory of the finished training run returned: resident set {} MB -> {} MB", before >> 20, after >> 20);
    return after - before;
  }

  /**
   * glibc's {@code malloc_trim(0)}: returns the free pages of every arena. JavaCPP wraps it (and calls it
   * itself when off-heap use nears its limit) but keeps the wrapper private, so it is reached by
   * reflection; with a JavaCPP that lacks it nothing is trimmed and the log says so. Returns whether
   * the call was made.
   */
  static boolean trimMalloc() {
    try {
      Method trim = Pointer.class.getDeclaredMethod("trimMemory");
      trim.setAccessible(true);
      trim.invoke(null);
      return true;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      LOG.warn("malloc_trim is not reachable through this JavaCPP ({}): freed native memory stays in malloc's arenas",
          e.toString());
      return false;
    }
  }
}
