package cifarserve;

import cifarserve.cli.InfoCommand;
import cifarserve.cli.ServeCommand;
import cifarserve.cli.TrainCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** cifar-serve: train, serve and benchmark a CIFAR-10 classifier. */
@Command(name = "cifar-serve", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Trains and serves a CIFAR-10 CNN (Deeplearning4j on Eclipse Vert.x).",
    subcommands = {TrainCommand.class, ServeCommand.class, InfoCommand.class, CommandLine.HelpCommand.class})
public final class Main {
  public static void main(String[] args) {
    int exitCode = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
    if (exitCode != 0 || !ServeCommand.isServing()) {
      System.exit(exitCode);
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"cifar-serve " + BuildInfo.get("app") + " (Vert.x " + BuildInfo.get("vertx")
          + ", Deeplearning4j " + BuildInfo.get("dl4j") + ", Java " + System.getProperty("java.version") + ")"};
    }
  }
}
