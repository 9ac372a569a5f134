package cifarserve.openfaas;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.model.ChangeLog;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.AbstractWaitStrategy;

/**
 * The function image run as OpenFaaS runs it on the study's t3.medium share: host network (all traffic
 * on 127.0.0.1), 2 CPUs, 4 GiB, uid 12000, read-only root with a /tmp tmpfs, HTTP_PORT a free port.
 * Started means /_/health answered 200. Files and the memory cgroup are read through the host's /proc
 * (the tests run on the daemon's host, as root): a tmpfs is invisible to Docker's archive API.
 */
final class FunctionContainer extends GenericContainer<FunctionContainer> {
  static final String IMAGE = System.getProperty("function.image", "cifar-serve-function:latest");
  static final long MEMORY_LIMIT = 4L << 30;
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  final int port;

  FunctionContainer(String image, Map<String, String> env, Consumer<CreateContainerCmd> modify) {
    super(image);
    this.port = freePort();
    withNetworkMode("host");
    withEnv("HTTP_PORT", Integer.toString(port));
    withEnv(env);
    withCreateContainerCmdModifier(cmd -> {
      cmd.withUser("12000");
      cmd.getHostConfig().withReadonlyRootfs(true).withTmpFs(Map.of("/tmp", "")).withMemory(MEMORY_LIMIT)
          .withMemorySwap(MEMORY_LIMIT).withNanoCPUs(2_000_000_000L);
      modify.accept(cmd);
    });
    waitingFor(new HealthWait());
  }

  /** The image as shipped, with extra environment variables (name, value, ...). */
  static FunctionContainer of(String... env) {
    Map<String, String> vars = new LinkedHashMap<>();
    for (int i = 0; i + 1 < env.length; i += 2) {
      vars.put(env[i], env[i + 1]);
    }
    return new FunctionContainer(IMAGE, vars, cmd -> { });
  }

  static DockerClient docker() {
    return org.testcontainers.DockerClientFactory.instance().client();
  }

  String url(String path) {
    return "http://127.0.0.1:" + port + path;
  }

  /** The status of a GET, or -1 if nothing answers (refused, reset, timeout). */
  int status(String path) {
    try {
      return get(path).statusCode();
    } catch (IOException e) {
      return -1;
    }
  }

  HttpResponse<String> get(String path) throws IOException {
    return send(HttpRequest.newBuilder(URI.create(url(path))).timeout(Duration.ofSeconds(10)).GET().build());
  }

  HttpResponse<String> classify(byte[] body, String contentType) throws IOException {
    return send(HttpRequest.newBuilder(URI.create(url("/v1/classify"))).timeout(Duration.ofSeconds(60))
        .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
  }

  private static HttpResponse<String> send(HttpRequest request) throws IOException {
    try {
      return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException(e);
    }
  }

  /** A classification whose headers are sent and whose body is held back: in flight as long as the test wants. */
  HeldRequest hold(byte[] body) throws IOException {
    return HeldRequest.open(port, body);
  }

  long pid() {
    return getCurrentContainerInfo().getState().getPidLong();
  }

  /** A path inside the running container, seen from the host. */
  Path inside(String path) {
    return Path.of("/proc/" + pid() + "/root" + path);
  }

  boolean lockExists() {
    return Files.exists(inside("/tmp/.lock"));
  }

  /** docker stop -t SECONDS (SIGTERM, SIGKILL after the grace period); returns the exit code. */
  long stopGracefully(int seconds) {
    docker().stopContainerCmd(getContainerId()).withTimeout(seconds).exec();
    return docker().inspectContainerCmd(getContainerId()).exec().getState().getExitCodeLong();
  }

  /** What `docker diff` lists: files changed outside the container's mounts. */
  List<ChangeLog> diff() {
    List<ChangeLog> changes = docker().containerDiffCmd(getContainerId()).exec();
    return changes == null ? List.of() : changes;
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket()) {
      s.bind(new InetSocketAddress("127.0.0.1", 0));
      return s.getLocalPort();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** /_/health 200 on the container's port; fails early with the log if the container stops. */
  private final class HealthWait extends AbstractWaitStrategy {
    HealthWait() {
      withStartupTimeout(Duration.ofMinutes(4));
    }

    @Override
    protected void waitUntilReady() {
      long deadline = System.nanoTime() + startupTimeout.toNanos();
      while (System.nanoTime() < deadline) {
        if (status("/_/health") == 200) {
          return;
        }
        if (!waitStrategyTarget.isRunning()) {
          throw new IllegalStateException("the function stopped before /_/health answered 200:\n" + getLogs());
        }
        try {
          Thread.sleep(20); // a poll interval, not a guessed wait
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
      throw new IllegalStateException("/_/health not 200 within " + startupTimeout + ":\n" + getLogs());
    }
  }

  static boolean refused(IOException e) {
    return e instanceof ConnectException;
  }
}
