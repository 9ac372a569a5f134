package cifarserve.cli;

import cifarserve.BuildInfo;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.nd4j.linalg.factory.Nd4j;
import picocli.CommandLine.Command;

@Command(name = "info", mixinStandardHelpOptions = true,
    description = "Initialise the ND4J backend (extracting its native libraries into the JavaCPP cache) and print it.")
public final class InfoCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    long started = System.nanoTime();
    Properties env = Nd4j.getExecutioner().getEnvironmentInformation();
    System.out.printf("ND4J backend ready in %.0f ms%n", (System.nanoTime() - started) / 1e6);
    System.out.println("versions: " + BuildInfo.toJson().encode());
    System.out.println("backend: " + Nd4j.getBackend().getClass().getName());
    env.stringPropertyNames().stream().sorted().forEach(k -> System.out.println("  " + k + " = " + env.get(k)));
    System.out.println("engine: " + cifarserve.model.CifarCnn.engineReport(cifarserve.model.CifarCnn.newNetwork(1)));
    System.out.println("javacpp cache: " + System.getProperty("org.bytedeco.javacpp.cachedir",
        System.getProperty("user.home") + "/.javacpp/cache"));
    return 0;
  }
}
