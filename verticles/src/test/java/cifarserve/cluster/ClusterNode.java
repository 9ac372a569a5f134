package cifarserve.cluster;

import cifarserve.TestServers;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One real service process ({@code cifarserve.Main serve}, the test's own classpath) in cluster mode on
 * 127.0.0.1: its own HTTP port, model folder and log file, a cluster name unique to the test run.
 */
final class ClusterNode {
  static final Path CLUSTER_XML = Path.of("..", "conf", "cluster-local.xml").toAbsolutePath().normalize();

  final String name;
  final int port;
  final Path modelDir;
  final Path log;
  final long startedNanos;
  private final Process process;

  private ClusterNode(String name, int port, Path modelDir, Path log, Process process, long startedNanos) {
    this.name = name;
    this.port = port;
    this.modelDir = modelDir;
    this.log = log;
    this.process = process;
    this.startedNanos = startedNanos;
  }

  /** Starts a node; {@code env} adds to (and overrides) the cluster settings below. */
  static ClusterNode start(String name, String clusterName, Path clusterXml, Path runDir, Map<String, String> env)
      throws IOException {
    int port = TestServers.freePort();
    Path modelDir = Files.createDirectories(runDir.resolve(name + "-models"));
    Path log = runDir.resolve(name + ".log");
    String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
    ProcessBuilder builder = new ProcessBuilder(List.of(java, "-Xmx1g",
        // Four JVMs start on two shared cores: cheap JIT and GC start faster; the model math is native anyway.
        "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
        "-Djava.net.preferIPv4Stack=true",
        // What Hazelcast asks for on JDK 17 (else it logs warnings and loses some metrics).
        "--add-modules", "java.se",
        "--add-exports", "java.base/jdk.internal.ref=ALL-UNNAMED",
        "--add-opens", "java.base/java.lang=ALL-UNNAMED",
        "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED",
        "--add-opens", "java.management/sun.management=ALL-UNNAMED",
        "--add-opens", "jdk.management/com.sun.management.internal=ALL-UNNAMED",
        "-cp", System.getProperty("java.class.path"), "cifarserve.Main", "serve"))
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    Map<String, String> environment = builder.environment();
    environment.put("HTTP_HOST", "127.0.0.1");
    environment.put("HTTP_PORT", String.valueOf(port));
    environment.put("MODEL_DIR", modelDir.toString());
    environment.put("CLUSTER_ENABLED", "true");
    environment.put("CLUSTER_CONFIG", clusterXml.toString());
    environment.put("CLUSTER_NAME", clusterName);
    environment.put("EVENTBUS_HOST", "127.0.0.1");
    environment.put("EVENTBUS_PORT", "0");
    environment.put("TRAIN_ON_START", "false");
    environment.put("ACCURACY_GATE_ENABLED", "false"); // tiny models on purpose
    environment.put("CLUSTER_SECRET_FILE", secretFile(runDir).toString());
    // One native math thread per node: three or four nodes share the machine's cores.
    environment.put("OMP_NUM_THREADS", "1");
    environment.put("OPENBLAS_NUM_THREADS", "1");
    environment.putAll(env);
    long started = System.nanoTime();
    return new ClusterNode(name, port, modelDir, log, builder.start(), started);
  }

  /**
   * conf/cluster-local.xml as is, except that a member silent for 8 s is not dropped: on a saturated
   * shared test host JVMs stall that long (Hazelcast logs "clock jump"), and members would split.
   * A SIGKILLed member is still dropped at once, when its connections fail.
   */
  static Path patientClusterXml(Path runDir) throws IOException {
    String xml = Files.readString(CLUSTER_XML);
    String heartbeat = "<property name=\"hazelcast.max.no.heartbeat.seconds\">8</property>";
    if (!xml.contains(heartbeat)) {
      throw new IllegalStateException(CLUSTER_XML + " no longer sets " + heartbeat);
    }
    return Files.writeString(runDir.resolve("cluster.xml"),
        xml.replace(heartbeat, "<property name=\"hazelcast.max.no.heartbeat.seconds\">60</property>"));
  }

  /** The run's cluster secret (one per run dir, created on first use): nodes sign and verify models with it. */
  static synchronized Path secretFile(Path runDir) throws IOException {
    Path file = runDir.resolve("cluster-secret");
    if (!Files.exists(file)) {
      byte[] random = new byte[32];
      new java.security.SecureRandom().nextBytes(random);
      Files.writeString(file, java.util.HexFormat.of().formatHex(random));
    }
    return file;
  }

  /** SIGKILLs every node still alive (test teardown and shutdown hooks). */
  static void killAll(List<ClusterNode> nodes) {
    for (ClusterNode node : nodes) {
      if (node.alive()) {
        try {
          node.kill();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  long pid() {
    return process.pid();
  }

  boolean alive() {
    return process.isAlive();
  }

  /** SIGKILL: no drain, no graceful cluster leave. */
  void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  long millisSinceStart() {
    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
  }

  String logTail() {
    try {
      List<String> lines = Files.readAllLines(log);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 25), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  @Override
  public String toString() {
    return name + " (pid " + process.pid() + ", http " + port + ")";
  }
}
