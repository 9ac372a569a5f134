package cifarserve.loadtest;

import cifarserve.loadtest.cli.LoadTestCommand;
import io.vertx.core.json.JsonObject;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;

/** Runs the real command line in-process and captures what it printed and wrote. */
record CliRun(int exitCode, String stdout, String stderr, JsonObject json) {
  static CliRun run(Path tempDir, String... args) throws Exception {
    Path jsonFile = tempDir.resolve("result-" + System.nanoTime() + ".json");
    List<String> all = new ArrayList<>(List.of(args));
    all.add(0, jsonFile.toString());
    all.add(0, "--json");
    all.add(0, "never");
    all.add(0, "--progress");
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl = LoadTestCommand.commandLine();
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    int code = cl.execute(all.toArray(String[]::new));
    JsonObject json = Files.exists(jsonFile) ? new JsonObject(Files.readString(jsonFile)) : null;
    return new CliRun(code, out.toString(), err.toString(), json);
  }

  JsonObject requests() {
    return json.getJsonObject("requests");
  }

  JsonObject latency() {
    return json.getJsonObject("latencyMs");
  }

  JsonObject uncorrected() {
    return json.getJsonObject("latencyUncorrectedMs");
  }
}
