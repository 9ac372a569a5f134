package cifarserve.loadtest;

import cifarserve.loadtest.cli.LoadTestCommand;
import picocli.CommandLine;

/** Entry point of cifar-loadtest.jar: the ab-compatible command, plus the {@code serve-hello} sub-command. */
public final class Main {
  private Main() {
  }

  public static void main(String[] args) {
    // XChart draws through AWT; there is never a display on a load-test host.
    System.setProperty("java.awt.headless", "true");
    System.exit(LoadTestCommand.commandLine().execute(args));
  }
}
