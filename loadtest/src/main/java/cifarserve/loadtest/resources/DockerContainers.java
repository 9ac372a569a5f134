package cifarserve.loadtest.resources;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** Resolves a Docker container name to its main PID with {@code docker inspect} (run once, before the test). */
public final class DockerContainers {
  private DockerContainers() {
  }

  public static long pidOf(String container) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("docker", "inspect", "--format", "{{.State.Pid}}", container)
        .redirectErrorStream(true).start();
    if (!p.waitFor(15, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("docker inspect " + container + " did not answer within 15 s");
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (p.exitValue() != 0) {
      throw new IOException("docker inspect " + container + " failed: " + out);
    }
    long pid;
    try {
      pid = Long.parseLong(out);
    } catch (NumberFormatException e) {
      throw new IOException("docker inspect " + container + ": unexpected output '" + out + "'");
    }
    if (pid <= 0) {
      throw new IOException("container " + container + " is not running");
    }
    return pid;
  }
}
