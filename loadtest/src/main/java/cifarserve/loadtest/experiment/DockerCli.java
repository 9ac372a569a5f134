package cifarserve.loadtest.experiment;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The docker CLI, pointed at one daemon: the one given (DOCKER_HOST) or our own dockerd, started like
 * openfaas/container-tests.sh does (--bridge=none, its own data/exec roots and socket) and stopped by PID.
 *
 * <p>It remembers the containers it created until they are removed. {@link #close()} removes those left
 * and stops our own dockerd; a JVM shutdown hook does the same when the run is stopped by SIGTERM or
 * Ctrl-C, which would otherwise leave the daemon and its 4 GiB containers running.
 */
public final class DockerCli implements AutoCloseable {
  private final String program;
  private final String host;
  private final Process ownDaemon;
  private final Path workDir;
  private final Set<String> containers = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Thread shutdownHook;

  DockerCli(String program, String host, Process ownDaemon, Path workDir) {
    this.program = program;
    this.host = host;
    this.ownDaemon = ownDaemon;
    this.workDir = workDir;
    this.shutdownHook = new Thread(this::closeQuietly, "docker-cleanup");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /** Uses {@code dockerHost} if given, else starts a private dockerd under {@code workDir}. */
  public static DockerCli connect(String dockerHost, Path workDir) throws IOException, InterruptedException {
    requireOnPath("docker");
    if (dockerHost != null && !dockerHost.isBlank()) {
      DockerCli cli = new DockerCli("docker", dockerHost, null, workDir);
      try {
        cli.run(30, "version", "-f", "{{.Server.Version}}");
      } catch (IOException unreachable) {
        cli.close();
        throw unreachable;
      }
      return cli;
    }
    requireOnPath("dockerd");
    Files.createDirectories(workDir);
    String socket = "unix://" + workDir.resolve("docker.sock");
    List<String> command = new ArrayList<>();
    if (LoadRuns.onPath("setsid")) {
      // Its own session: a terminal's Ctrl-C (SIGINT to the foreground group) reaches only us, and our
      // shutdown hook removes the containers before stopping the daemon, in that order.
      command.add("setsid");
    }
    command.addAll(List.of("dockerd", "--bridge=none", "--iptables=false", "--ip-masq=false",
        "--data-root", workDir.resolve("data").toString(), "--exec-root", workDir.resolve("exec").toString(),
        "-H", socket, "--pidfile", workDir.resolve("dockerd.pid").toString()));
    Process daemon = new ProcessBuilder(command).redirectErrorStream(true)
        .redirectOutput(workDir.resolve("dockerd.log").toFile()).start();
    DockerCli cli = new DockerCli("docker", socket, daemon, workDir);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (!daemon.isAlive()) {
        break;
      }
      try {
        cli.run(10, "version", "-f", "{{.Server.Version}}");
        return cli;
      } catch (IOException notYet) {
        Thread.sleep(250);
      }
    }
    cli.close();
    throw new IOException("dockerd did not start; last lines of " + workDir.resolve("dockerd.log") + ":\n"
        + tail(workDir.resolve("dockerd.log"), 20));
  }

  private static void requireOnPath(String program) throws IOException {
    if (LoadRuns.onPath(program)) {
      return;
    }
    throw new IOException(program + " not found on PATH: install Docker (Debian: apt-get install docker.io)");
  }

  static String tail(Path file, int lines) {
    try {
      List<String> all = Files.readAllLines(file, StandardCharsets.UTF_8);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** Runs {@code docker ARGS}, returns its trimmed stdout; a non-zero exit or a timeout is an IOException. */
  public String run(int timeoutSeconds, String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(program, "-H", host));
    command.addAll(List.of(args));
    int name = List.of(args).indexOf("--name");
    if (args.length > 0 && args[0].equals("create") && name > 0 && name + 1 < args.length) {
      containers.add(args[name + 1]); // before it exists: a stop mid-create still removes it
    }
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().put("DOCKER_BUILDKIT", "0");
    Process p = builder.start();
    byte[][] out = new byte[1][];
    Thread reader = new Thread(() -> {
      try {
        out[0] = p.getInputStream().readAllBytes();
      } catch (IOException e) {
        out[0] = new byte[0];
      }
    });
    reader.start();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("docker " + args[0] + " did not finish within " + timeoutSeconds + " s");
    }
    reader.join(5000);
    String text = out[0] == null ? "" : new String(out[0], StandardCharsets.UTF_8).trim();
    if (p.exitValue() != 0) {
      throw new IOException("docker " + String.join(" ", args) + " failed (" + p.exitValue() + "): " + text);
    }
    return text;
  }

  public boolean hasImage(String image) throws InterruptedException {
    try {
      run(30, "image", "inspect", "-f", "{{.Id}}", image);
      return true;
    } catch (IOException absent) {
      return false;
    }
  }

  public String logsTail(String container, int lines) {
    try {
      return run(30, "logs", "--tail", Integer.toString(lines), container);
    } catch (IOException | InterruptedException e) {
      return "(no logs: " + e.getMessage() + ")";
    }
  }

  public void removeQuietly(String container) {
    try {
      run(60, "rm", "-f", container);
      containers.remove(container);
    } catch (IOException | InterruptedException ignored) {
      // already gone
    }
  }

  /** Containers created through this client and not removed yet. */
  Set<String> containers() {
    return Set.copyOf(containers);
  }

  private void closeQuietly() {
    try {
      if (!closed.get()) {
        System.err.println("[experiment] stopped: removing containers " + containers()
            + (ownDaemon != null ? " and stopping our dockerd" : ""));
      }
      close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public String host() {
    return host;
  }

  /**
   * Removes the containers still left, then stops our own dockerd (SIGTERM, then SIGKILL after 20 s);
   * a given daemon keeps running. Once only, whether called or run as the shutdown hook.
   */
  @Override
  public void close() throws InterruptedException {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shuttingDown) {
      // we are the hook, or it is about to run and will find us closed
    }
    for (String container : containers()) {
      removeQuietly(container);
    }
    if (ownDaemon == null) {
      return;
    }
    ownDaemon.destroy();
    if (!ownDaemon.waitFor(20, TimeUnit.SECONDS)) {
      ownDaemon.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    // what dockerd leaves mounted under its roots (network namespaces, overlays), deepest first
    try {
      List<String> mounts = new ArrayList<>();
      for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
        String[] f = line.split(" ");
        if (f.length > 1 && f[1].startsWith(workDir.toString() + "/")) {
          mounts.add(f[1]);
        }
      }
      mounts.sort(java.util.Comparator.reverseOrder());
      for (String m : mounts) {
        new ProcessBuilder("umount", "-l", m).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start().waitFor(10, TimeUnit.SECONDS);
      }
    } catch (IOException ignored) {
      // nothing to unmount
    }
    // its image store (the loaded images: hundreds of MB), also when a stopped run never reaches its own cleanup
    try {
      new ProcessBuilder("rm", "-rf", workDir.resolve("data").toString(), workDir.resolve("exec").toString())
          .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(60, TimeUnit.SECONDS);
    } catch (IOException ignored) {
      // left for the caller's cleanup
    }
  }
}
