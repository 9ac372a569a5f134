package cifarserve;

import ai.onnxruntime.OrtEnvironment;
import cifarserve.config.ServiceConfig;
import cifarserve.config.ServiceSettings;
import cifarserve.model.ArtifactStore;
import cifarserve.model.ModelPreload;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The function image's entry point: serves the newest model of the model folder with ONNX Runtime
 * (no training, no cluster, no DL4J on the classpath). Arguments as the node's CLI takes them:
 * {@code [serve] [--conf FILE]}, or {@code info} (loads ONNX Runtime's native library and prints its
 * version: the image build's smoke test).
 */
public final class FunctionMain {
  private FunctionMain() {
  }

  public static void main(String[] args) {
    StartupMarks.mainReached();
    List<String> rest = List.of(args);
    boolean info = !rest.isEmpty() && rest.get(0).equals("info");
    // ONNX Runtime starts on its own thread at once, the model follows once the config is read: a cold
    // start is then ready after the longer of model loading and Vert.x + HTTP start-up, not their sum.
    ModelPreload preload = info ? null : ModelPreload.begin();
    if (info) {
      System.out.println("ONNX Runtime " + OrtEnvironment.getEnvironment().getVersion() + " (native library "
          + System.getProperty("onnxruntime.native.path", "extracted from the jar") + ")");
      return;
    }
    if (!rest.isEmpty() && rest.get(0).equals("serve")) {
      rest = rest.subList(1, rest.size());
    }
    Path conf = null;
    if (rest.size() == 2 && rest.get(0).equals("--conf")) {
      conf = Path.of(rest.get(1));
    } else if (!rest.isEmpty()) {
      System.err.println("usage: java -jar cifar-serve-function.jar [serve] [--conf FILE] | info");
      System.exit(2);
    }
    long started = System.nanoTime();
    try {
      ServiceSettings settings = ServiceSettings.of(ServiceConfig.load(conf));
      ServiceSettings.Inference inference = settings.inference();
      var model = preload.load(new ArtifactStore(settings.modelDir()), inference.lanes(), inference.threadsPerLane());
      Vertx vertx = Vertx.builder().with(Server.vertxOptions()).build();
      Server server = Server.deploy(vertx, settings, model).toCompletionStage().toCompletableFuture()
          .get(5, TimeUnit.MINUTES);
      server.drainOnSignals();
      System.out.printf("cifar-serve function listening on port %d (started in %d ms)%n", server.port(),
          (System.nanoTime() - started) / 1_000_000);
      System.out.println(StartupMarks.line());
    } catch (Exception e) {
      // Vert.x's threads would keep a half-started process alive: exit, so the platform restarts it
      System.err.println("error: could not start the function: " + (e.getCause() != null ? e.getCause() : e));
      System.exit(1);
    }
  }
}
