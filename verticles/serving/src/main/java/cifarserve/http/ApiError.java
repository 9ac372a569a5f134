package cifarserve.http;

/** A client-visible failure: an HTTP status and a message for the JSON {"error": ...} body. */
public final class ApiError extends RuntimeException {
  private final int status;

  public ApiError(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  /** An error whose cause goes to the log only (with the request id), never to the client. */
  public ApiError(int status, String message, Throwable cause) {
    super(message, cause, false, false);
    this.status = status;
  }

  public int status() {
    return status;
  }
}
