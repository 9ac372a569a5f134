package cifarserve.bench;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The training figure's reference, measured in the same benchmark run: the same network, batch and
 * optimizer in PyTorch (torch_training.py, shipped in this jar), with as many threads as DL4J gets.
 * Absent PyTorch the report says so and how to install it (bench/reference/install.sh).
 */
final class TorchReference {
  /** Debian's python3-torch lives under the system interpreter, not a pyenv one. */
  private static final String PYTHON = System.getenv().getOrDefault("REFERENCE_PYTHON", "/usr/bin/python3");

  private TorchReference() {
  }

  static JsonObject measure(Path cifarDir, TrainingComparison.Schedule schedule, Map<String, String> env, Path logDir)
      throws IOException, InterruptedException {
    Path script = logDir.resolve("torch_training.py");
    try (InputStream in = TorchReference.class.getResourceAsStream("torch_training.py")) {
      Files.write(script, in.readAllBytes());
    }
    Path log = logDir.resolve("torch-reference.log");
    List<String> command = List.of(PYTHON, script.toString(), cifarDir.toString(),
        "--threads", String.valueOf(Runtime.getRuntime().availableProcessors()),
        "--warmup", String.valueOf(schedule.warmup()), "--windows", String.valueOf(schedule.windows()),
        "--iterations", String.valueOf(schedule.iterations()));
    ProcessBuilder builder = new ProcessBuilder(command).redirectError(log.toFile());
    builder.environment().putAll(env);
    Process process;
    try {
      process = builder.start();
    } catch (IOException noPython) {
      return unavailable(PYTHON + " not found");
    }
    byte[] stdout = process.getInputStream().readAllBytes();
    if (!process.waitFor(5, TimeUnit.MINUTES)) {
      process.destroyForcibly();
      return unavailable("timed out after 5 minutes");
    }
    if (process.exitValue() != 0) {
      return unavailable("exit " + process.exitValue() + " (is PyTorch installed? see " + log + ")");
    }
    String[] lines = new String(stdout, StandardCharsets.UTF_8).strip().split("\n");
    return new JsonObject(lines[lines.length - 1]).put("available", true).put("command", String.join(" ", command));
  }

  private static JsonObject unavailable(String reason) {
    return new JsonObject().put("available", false)
        .put("reason", reason + "; install it with bench/reference/install.sh");
  }
}
