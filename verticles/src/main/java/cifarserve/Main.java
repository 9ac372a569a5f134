package cifarserve;

import cifarserve.cli.DataCommand;
import cifarserve.cli.ExportCommand;
import cifarserve.cli.InfoCommand;
import cifarserve.cli.ServeCommand;
import cifarserve.cli.TrainCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** cifar-serve: train and serve a CIFAR-10 classifier (benchmarks: verticles/bench, their own jar). */
@Command(name = "cifar-serve", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Trains and serves a CIFAR-10 CNN (Deeplearning4j on Eclipse Vert.x).",
    subcommands = {TrainCommand.class, ServeCommand.class, DataCommand.class, InfoCommand.class, ExportCommand.class,
        CommandLine.HelpCommand.class})
public final class Main {
  /** DL4J M2.1 disables its oneDNN layer helpers unless told otherwise (see org.nd4j.nativeblas.Nd4jCpu). */
  static final String HELPERS_DISABLE = "org.eclipse.deeplearning4j.helpers.disable";

  public static void main(String[] args) {
    StartupMarks.mainReached();
    enableEngineHelpers();
    int exitCode = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true).execute(args);
    if (exitCode != 0 || !ServeCommand.isServing()) {
      System.exit(exitCode);
    }
  }

  /** Must run before the first DL4J layer is created; an explicit -D setting wins. */
  public static void enableEngineHelpers() {
    if (System.getProperty(HELPERS_DISABLE) == null) {
      System.setProperty(HELPERS_DISABLE, "false");
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
