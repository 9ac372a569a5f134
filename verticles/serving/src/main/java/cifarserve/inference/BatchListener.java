package cifarserve.inference;

/** Where the batcher's figures go (metrics); every method is called outside its lock. */
public interface BatchListener {
  BatchListener NONE = new BatchListener() { };

  default void queued(long waitedNanos) { }

  default void batchRun(int images, long computeNanos) { }

  default void rejected(BatchFailure.Reason reason) { }
}
