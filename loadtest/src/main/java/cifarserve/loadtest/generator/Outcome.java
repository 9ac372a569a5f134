package cifarserve.loadtest.generator;

/** How one request ended. Everything but {@link #SUCCESS} counts as a failure for {@code --max-failures}. */
public enum Outcome {
  /** A 2xx answer (its body length may vary: unlike ab, that is not a failure). */
  SUCCESS,
  /** An answer arrived, but with a status outside 2xx. */
  NON_2XX,
  /** No complete answer within {@code -s} (connect or response timeout). */
  TIMEOUT,
  /** Refused, reset or closed connection. */
  CONNECTION_ERROR,
  /** Anything else (protocol errors, unexpected exceptions). */
  OTHER;

  public boolean isFailure() {
    return this != SUCCESS;
  }
}
