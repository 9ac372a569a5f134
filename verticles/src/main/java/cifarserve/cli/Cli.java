package cifarserve.cli;

/** Small helpers shared by the commands. */
public final class Cli {
  private Cli() {
  }

  /** An exception as one readable line: its message, and its cause's when that says more. */
  public static String describe(Throwable e) {
    String message = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    Throwable cause = e.getCause();
    if (cause != null && cause.getMessage() != null && !message.contains(cause.getMessage())) {
      message += " (" + cause.getMessage() + ")";
    }
    return message;
  }
}
