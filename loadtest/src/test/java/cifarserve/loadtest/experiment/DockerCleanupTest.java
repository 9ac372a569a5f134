package cifarserve.loadtest.experiment;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the experiment leaves behind when it ends or is stopped, without Docker: a stand-in `docker`
 * script logs each call, and a `sleep` stands in for our own dockerd.
 */
class DockerCleanupTest {
  @TempDir
  Path dir;

  /** A `docker` that only appends its arguments to {@code calls.log}. */
  static Path fakeDocker(Path dir) throws Exception {
    Path script = dir.resolve("docker");
    Files.writeString(script, "#!/bin/sh\necho \"$@\" >> '" + dir.resolve("calls.log") + "'\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    return script;
  }

  static List<String> calls(Path dir) throws Exception {
    Path log = dir.resolve("calls.log");
    return Files.exists(log) ? Files.readAllLines(log) : List.of();
  }

  @Test
  void closeRemovesTheContainersStillLeftThenStopsItsDaemon() throws Exception {
    Process daemon = new ProcessBuilder("sleep", "300").start();
    Files.createDirectories(dir.resolve("data/overlay2"));
    DockerCli docker = new DockerCli(fakeDocker(dir).toString(), "unix:///nowhere.sock", daemon, dir);
    docker.run(10, "create", "--name", "exp-node", "--cpus", "2", "image");
    docker.run(10, "create", "--name", "exp-function", "image");
    docker.removeQuietly("exp-node");
    assertThat(docker.containers()).containsExactly("exp-function");

    docker.close();
    docker.close(); // once only

    assertThat(calls(dir)).containsExactly(
        "-H unix:///nowhere.sock create --name exp-node --cpus 2 image",
        "-H unix:///nowhere.sock create --name exp-function image",
        "-H unix:///nowhere.sock rm -f exp-node",
        "-H unix:///nowhere.sock rm -f exp-function");
    assertThat(daemon.isAlive()).isFalse();
    assertThat(dir.resolve("data")).as("the daemon's image store").doesNotExist();
  }

  @Test
  void aGivenDaemonIsLeftRunningButOurContainersAreRemoved() throws Exception {
    DockerCli docker = new DockerCli(fakeDocker(dir).toString(), "tcp://127.0.0.1:1", null, dir);
    docker.run(10, "create", "--name", "exp-replica", "image");
    docker.close();
    assertThat(calls(dir)).endsWith("-H tcp://127.0.0.1:1 rm -f exp-replica");
  }

  /** The real case: the JVM gets SIGTERM mid-run; its shutdown hook must clean up. */
  @Test
  void sigtermRemovesTheContainersAndStopsTheDaemon() throws Exception {
    Path docker = fakeDocker(dir);
    Process child = new ProcessBuilder(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
        "-cp", System.getProperty("java.class.path"), StoppedMidRun.class.getName(), docker.toString(), dir.toString())
        .redirectErrorStream(true).start();
    long daemonPid;
    try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      String line = out.readLine();
      assertThat(line).as("the child's first line").startsWith("daemon ");
      daemonPid = Long.parseLong(line.substring("daemon ".length()));
      child.destroy(); // SIGTERM
      assertThat(child.waitFor(60, TimeUnit.SECONDS)).isTrue();
    } finally {
      child.destroyForcibly();
    }
    assertThat(calls(dir)).endsWith("-H unix:///nowhere.sock rm -f exp-node-train");
    assertThat(ProcessHandle.of(daemonPid).map(ProcessHandle::isAlive).orElse(false)).as("daemon alive").isFalse();
  }

  /** Stands for the experiment: starts "its daemon", creates a container, then waits to be stopped. */
  public static final class StoppedMidRun {
    public static void main(String[] args) throws Exception {
      Process daemon = new ProcessBuilder("sleep", "300").start();
      DockerCli docker = new DockerCli(args[0], "unix:///nowhere.sock", daemon, Path.of(args[1]));
      docker.run(10, "create", "--name", "exp-node-train", "image");
      System.out.println("daemon " + daemon.pid());
      System.out.flush();
      Thread.sleep(TimeUnit.MINUTES.toMillis(5));
    }
  }
}
