package cifarserve.loadtest.experiment;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * How one side of the comparison runs: image and environment, under the same cgroup limits for both
 * (a t3.medium: 2 CPUs, 4 GiB). Host networking, so each container gets its own free ports.
 * {@code options} (more {@code docker create} options) and {@code command} (arguments after the image)
 * make the variants that {@code coldstart} compares; empty as deployed.
 */
public record Deployment(String key, String title, String image, boolean clustered, List<String> options,
    List<String> command) {
  public static final String CPUS = "2";
  public static final String MEMORY = "4g";
  public static final double CPU_COUNT = 2;
  public static final double MEMORY_MIB = 4096;

  public static Deployment function(String image) {
    return new Deployment("function", "OpenFaaS function", image, false, List.of(), List.of());
  }

  public static Deployment alwaysOn(String image) {
    return new Deployment("alwaysOn", "always-on node (ec2/)", image, true, List.of(), List.of());
  }

  /** The same image run differently: extra docker options (e.g. --entrypoint, -v) and arguments after it. */
  public Deployment variant(String variantKey, String variantTitle, List<String> extraOptions, List<String> arguments) {
    return new Deployment(variantKey, variantTitle, image, clustered, List.copyOf(extraOptions), List.copyOf(arguments));
  }

  /**
   * {@code docker create} arguments for a container of this deployment listening on {@code httpPort}.
   * {@code trainFromNothing}: an empty model directory and TRAIN_ON_START with the given budget.
   */
  public List<String> createArgs(String name, int httpPort, Path cifarDir, Integer trainLimit, Integer testLimit,
      Double epochs) throws IOException {
    List<String> args = new ArrayList<>(List.of("create", "--name", name, "--network", "host",
        "--cpus", CPUS, "--memory", MEMORY, "--memory-swap", MEMORY, "--read-only",
        "--tmpfs", "/tmp:exec,size=2g", "-e", "HTTP_PORT=" + httpPort, "-e", "HTTP_HOST=127.0.0.1"));
    if (clustered) {
      // what ec2/cifar-serve.service sets with Environment=, paths moved into the image's layout; the engine
      // environment (conf/jvm.env's ENGINE_ENV, and TRAIN_ENV for the node) is already in the image's Env, as
      // build-image.sh writes it
      args.addAll(List.of("-e", "MODEL_DIR=/app/models",
          "-e", "CLUSTER_CONFIG=/app/conf/cluster-local.xml", "-e", "CLUSTER_NAME=experiment-" + name,
          "-e", "EVENTBUS_HOST=127.0.0.1", "-e", "EVENTBUS_PORT=" + freePort(), "-e", "TRAIN_ON_START=false"));
    }
    if (trainLimit != null) {
      // The study's startup is "train this budget, evaluate, serve", whatever accuracy the budget reaches
      // (reported). The accuracy gate guards replacing a served model; with its floor on, a small budget
      // (--quick) would never become ready.
      args.addAll(List.of("-e", "ACCURACY_GATE_ENABLED=false"));
      args.addAll(List.of("-v", cifarDir.toAbsolutePath() + ":/cifar:ro", "-e", "CIFAR_DIR=/cifar",
          "-e", "MODEL_DIR=/tmp/models", "-e", "TRAIN_ON_START=true", "-e", "TRAIN_LIMIT=" + trainLimit, "-e", "TEST_LIMIT=" + testLimit,
          "-e", "TRAIN_EPOCHS=" + ExperimentSettings.epochsText(epochs)));
    }
    args.addAll(options);
    args.add(image);
    args.addAll(command);
    return args;
  }

  /** A port free on 127.0.0.1 right now (the container binds it a moment later). */
  public static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket()) {
      socket.setReuseAddress(false);
      socket.bind(new InetSocketAddress("127.0.0.1", 0));
      return socket.getLocalPort();
    }
  }
}
