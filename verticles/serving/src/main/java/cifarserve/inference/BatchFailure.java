package cifarserve.inference;

/** Why the batcher did not answer a request: one typed failure, mapped to a status code once. */
public final class BatchFailure extends RuntimeException {
  public enum Reason {
    /** The bounded queue has no room: try again later. */
    QUEUE_FULL(503),
    /** No model is loaded yet (or the service is stopping). */
    NOT_READY(503),
    /** The request's deadline passed while it waited. */
    TIMEOUT(503),
    /** The model failed on the batch. */
    FAILED(500);

    public final int statusCode;

    Reason(int statusCode) {
      this.statusCode = statusCode;
    }
  }

  private final Reason reason;

  public BatchFailure(Reason reason, String message) {
    this(reason, message, null);
  }

  public BatchFailure(Reason reason, String message, Throwable cause) {
    super(message, cause, false, false);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
