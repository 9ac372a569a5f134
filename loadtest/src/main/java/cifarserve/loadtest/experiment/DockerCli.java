package cifarserve.loadtest.experiment;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The docker CLI, pointed at one daemon: the one given (DOCKER_HOST) or our own dockerd, started like
 * openfaas/test-container.sh does (--bridge=none, its own data/exec roots and socket) and stopped by PID.
 */
public final class DockerCli implements AutoCloseable {
  private final String host;
  private final Process ownDaemon;
  private final Path workDir;

  private DockerCli(String host, Process ownDaemon, Path workDir) {
    this.host = host;
    this.ownDaemon = ownDaemon;
    this.workDir = workDir;
  }

  /** Uses {@code dockerHost} if given, else starts a private dockerd under {@code workDir}. */
  public static DockerCli connect(String dockerHost, Path workDir) throws IOException, InterruptedException {
    requireOnPath("docker");
    if (dockerHost != null && !dockerHost.isBlank()) {
      DockerCli cli = new DockerCli(dockerHost, null, workDir);
      cli.run(30, "version", "-f", "{{.Server.Version}}");
      return cli;
    }
    requireOnPath("dockerd");
    Files.createDirectories(workDir);
    String socket = "unix://" + workDir.resolve("docker.sock");
    Process daemon = new ProcessBuilder("dockerd", "--bridge=none", "--iptables=false", "--ip-masq=false",
        "--data-root", workDir.resolve("data").toString(), "--exec-root", workDir.resolve("exec").toString(),
        "-H", socket, "--pidfile", workDir.resolve("dockerd.pid").toString())
        .redirectErrorStream(true).redirectOutput(workDir.resolve("dockerd.log").toFile()).start();
    DockerCli cli = new DockerCli(socket, daemon, workDir);
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
    List<String> command = new ArrayList<>(List.of("docker", "-H", host));
    command.addAll(List.of(args));
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
    } catch (IOException | InterruptedException ignored) {
      // already gone
    }
  }

  public String host() {
    return host;
  }

  /** Stops our own dockerd (SIGTERM, then SIGKILL after 20 s); a given daemon is left alone. */
  @Override
  public void close() throws InterruptedException {
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
  }
}
