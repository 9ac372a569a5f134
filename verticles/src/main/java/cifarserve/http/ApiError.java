package cifarserve.http;

/** A client-visible failure: an HTTP status and a message for the JSON {"error": ...} body. */
public final class ApiError extends RuntimeException {
  private final int status;

  public ApiError(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  public int status() {
    return status;
  }
}
