package cifarserve.ec2;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs ec2/user-data.sh for real, as a node would at boot, with the system commands it calls (aws, dnf, useradd,
 * systemctl, ...) replaced by stubs: S3 is a folder, package installs and systemctl calls are logged, and every path
 * is written under a temporary root (PROVISION_ROOT). Checks what lands where.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ProvisioningScriptTest {

  static final String BUCKET = "test-bucket";
  static final String VERSION = "cnn-20261201T120421Z-d556";
  static final List<String> CONF_FILES = List.of("conf/ec2.json", "conf/cluster-aws.xml", "ec2/cifar-serve.service",
      "ec2/user-data.sh", "ec2/cifar-serve-liveness.sh", "ec2/cifar-serve-liveness.service", "ec2/cifar-serve-liveness.timer");

  @TempDir
  Path tmp;

  @Test
  void installsTheJarConfigsUnitAndModelThenStartsTheService() throws Exception {
    Path s3 = tmp.resolve("s3");
    byte[] jar = "not really a jar".getBytes(StandardCharsets.UTF_8);
    put(s3, "cifar-serve/cifar-serve.jar", jar);
    for (String ext : List.of("zip", "onnx", "json")) {
      put(s3, "cifar-serve/models/" + VERSION + "." + ext, (ext + " bytes").getBytes(StandardCharsets.UTF_8));
    }
    putConf(s3);
    put(s3, "secret:cluster-arn", "the-cluster-secret".getBytes(StandardCharsets.UTF_8));
    put(s3, "secret:admin-arn", "the-admin-token".getBytes(StandardCharsets.UTF_8));

    Map<String, String> env = baseEnv();
    env.put("MODEL_KEY", "cifar-serve/models/" + VERSION);
    env.put("ADMIN_TOKEN_ID", "admin-arn");
    env.put("CLUSTER_TAG_VALUE", "my-stack");
    env.put("CLUSTER_REGION", "eu-west-1");
    Run run = provision(s3, env);
    assertEquals(0, run.exitCode, run.output);

    Path root = tmp.resolve("root");
    assertArrayEquals(jar, Files.readAllBytes(root.resolve("opt/cifar-serve/cifar-serve.jar")));
    assertEquals(RepoFiles.read("ec2/cifar-serve.service"),
        Files.readString(root.resolve("etc/systemd/system/cifar-serve.service")));
    assertEquals(RepoFiles.read("conf/ec2.json"), Files.readString(root.resolve("etc/cifar-serve/ec2.json")));
    assertEquals(RepoFiles.read("conf/cluster-aws.xml"), Files.readString(root.resolve("etc/cifar-serve/cluster-aws.xml")));
    // A key without extension names the whole artifact: all three files.
    for (String ext : List.of("zip", "onnx", "json")) {
      assertEquals(ext + " bytes", Files.readString(root.resolve("var/lib/cifar-serve/models/" + VERSION + "." + ext)));
    }
    assertTrue(Files.isExecutable(root.resolve("opt/cifar-serve/provision.sh")), "kept for in-place refresh");
    assertTrue(Files.isExecutable(root.resolve("opt/cifar-serve/liveness.sh")));
    assertTrue(Files.exists(root.resolve("etc/systemd/system/cifar-serve-liveness.timer")));

    // Secrets: root-only files (0400 in a 0700 directory) the unit loads as credentials.
    Path secret = root.resolve("etc/cifar-serve/secrets/cluster-secret");
    assertEquals("the-cluster-secret", Files.readString(secret));
    assertEquals("r--------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secret)));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secret.getParent())));
    assertEquals("the-admin-token", Files.readString(root.resolve("etc/cifar-serve/secrets/admin-token")));
    assertTrue(Files.readString(root.resolve("etc/systemd/system/cifar-serve.service.d/admin-token.conf"))
        .contains("Environment=ADMIN_TOKEN_FILE=%d/admin-token"));

    String clusterEnv = Files.readString(root.resolve("etc/cifar-serve/cluster.env"));
    assertTrue(clusterEnv.contains("CLUSTER_TAG_KEY=cifar-serve-cluster\n"), clusterEnv);
    assertTrue(clusterEnv.contains("CLUSTER_TAG_VALUE=my-stack\n"), clusterEnv);
    assertTrue(clusterEnv.contains("CLUSTER_REGION=eu-west-1\n"), clusterEnv);
    assertTrue(clusterEnv.contains("CLUSTER_INTERFACE=10.0.1.23\nEVENTBUS_HOST=10.0.1.23\n"), "the private IP from IMDS: " + clusterEnv);

    String calls = Files.readString(tmp.resolve("calls.log"));
    assertTrue(calls.contains("dnf install -y -q java-17-amazon-corretto-headless"), calls);
    assertTrue(calls.contains("useradd --system"), calls);
    assertTrue(calls.indexOf("systemctl daemon-reload") < calls.indexOf("systemctl enable cifar-serve.service")
        && calls.indexOf("systemctl enable cifar-serve.service") < calls.indexOf("systemctl restart cifar-serve.service")
        && calls.contains("systemctl restart cifar-serve.service"), calls);
    assertTrue(calls.contains("systemctl enable --now cifar-serve-liveness.timer"), calls);
    assertTrue(calls.indexOf("curl -fsS -o /dev/null --max-time 5 http://127.0.0.1:8080/v2/health/ready")
        > calls.indexOf("systemctl restart"), "waits for readiness after the restart: " + calls);
    assertTrue(run.output.contains("cifar-serve-provision: ready"), run.output);
  }

  @Test
  void withoutAnAdminTokenTheDropInIsAbsent() throws Exception {
    Path s3 = minimalBucket();
    Run run = provision(s3, baseEnv());
    assertEquals(0, run.exitCode, run.output);
    assertTrue(!Files.exists(tmp.resolve("root/etc/systemd/system/cifar-serve.service.d/admin-token.conf")));
    assertTrue(run.output.contains("the admin endpoints are off"), run.output);
  }

  @Test
  void aModelKeyNamingOneFileOrAnIncompleteArtifactStartsNothing() throws Exception {
    Path s3 = minimalBucket();
    put(s3, "cifar-serve/models/" + VERSION + ".zip", new byte[1]);
    put(s3, "cifar-serve/models/" + VERSION + ".json", new byte[1]);
    for (String key : List.of(VERSION + ".zip", VERSION)) { // one file; the whole artifact with its .onnx missing
      Map<String, String> env = baseEnv();
      env.put("MODEL_KEY", "cifar-serve/models/" + key);
      Run run = provision(s3, env);
      assertTrue(run.exitCode != 0, key + " must fail: " + run.output);
      assertTrue(!Files.readString(tmp.resolve("calls.log")).contains("systemctl"), key + ": service must not be started");
    }
  }

  @Test
  void refusesToRunWithoutTheClusterSecret() throws Exception {
    Map<String, String> env = baseEnv();
    env.remove("CLUSTER_SECRET_ID");
    Run run = provision(tmp.resolve("s3"), env);
    assertTrue(run.exitCode != 0);
    assertTrue(run.output.contains("CLUSTER_SECRET_ID is required"), run.output);
  }

  @Test
  void stopsBeforeStartingAnythingWhenAnArtifactIsMissing() throws Exception {
    Path s3 = tmp.resolve("s3");
    Files.createDirectories(s3.resolve(BUCKET));
    Map<String, String> env = baseEnv();
    env.put("JAR_KEY", "cifar-serve/missing.jar");
    Run run = provision(s3, env);
    assertTrue(run.exitCode != 0, "must fail: " + run.output);
    assertTrue(!Files.readString(tmp.resolve("calls.log")).contains("systemctl"), "service must not be started");
  }

  @Test
  void refusesToRunWithoutTheBucket() throws Exception {
    Run run = provision(tmp.resolve("s3"), Map.of());
    assertTrue(run.exitCode != 0);
    assertTrue(run.output.contains("ARTIFACT_BUCKET is required"), run.output);
  }

  // ---- harness ----

  private static Map<String, String> baseEnv() {
    Map<String, String> env = new HashMap<>();
    env.put("ARTIFACT_BUCKET", BUCKET);
    env.put("JAR_KEY", "cifar-serve/cifar-serve.jar");
    env.put("CONFIG_PREFIX", "cifar-serve/conf/");
    env.put("CLUSTER_SECRET_ID", "cluster-arn");
    return env;
  }

  /** A bucket with a jar, the configs and the cluster secret: what every node needs. */
  private Path minimalBucket() throws IOException {
    Path s3 = tmp.resolve("s3");
    put(s3, "cifar-serve/cifar-serve.jar", new byte[1]);
    putConf(s3);
    put(s3, "secret:cluster-arn", "the-cluster-secret".getBytes(StandardCharsets.UTF_8));
    return s3;
  }

  private static void putConf(Path s3) throws IOException {
    for (String file : CONF_FILES) {
      put(s3, "cifar-serve/conf/" + Path.of(file).getFileName(), Files.readAllBytes(RepoFiles.path(file)));
    }
  }

  record Run(int exitCode, String output) {
  }

  private Run provision(Path s3, Map<String, String> vars) throws Exception {
    Path bin = stubs(s3);
    ProcessBuilder pb = new ProcessBuilder("bash", RepoFiles.path("ec2/user-data.sh").toString());
    Map<String, String> env = pb.environment();
    env.keySet().removeIf(k -> k.startsWith("CLUSTER_") || k.startsWith("AWS_") || k.endsWith("_KEY") || k.endsWith("_ID"));
    env.putAll(vars);
    env.put("PROVISION_ROOT", tmp.resolve("root").toString());
    env.put("PATH", bin + ":" + System.getenv("PATH"));
    pb.redirectErrorStream(true);
    Process process = pb.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(process.waitFor(50, TimeUnit.SECONDS), "provisioning hung: " + output);
    return new Run(process.exitValue(), output);
  }

  /** Stub commands: each logs its call; aws copies from the fake S3 folder; install drops -o/-g. */
  private Path stubs(Path s3) throws IOException {
    Path bin = Files.createDirectories(tmp.resolve("bin"));
    Path log = tmp.resolve("calls.log");
    Files.writeString(log, "");
    String logLine = "echo \"$(basename \"$0\") $*\" >> '" + log + "'\n";
    // aws: s3 cp from the fake S3 folder; secretsmanager get-secret-value reads the object "secret:<id>".
    stub(bin, "aws", logLine
        + "if [ \"$1 $2\" = \"secretsmanager get-secret-value\" ]; then exec cat \"" + s3 + "/" + BUCKET + "/secret:$4\"; fi\n"
        + "[ \"$1 $2\" = \"s3 cp\" ] || exit 2\nshift 2\n"
        + "while [ \"${1#--}\" != \"$1\" ]; do shift; done\n"
        + "src=\"${1#s3://}\"; exec cp \"" + s3 + "/$src\" \"$2\"\n");
    // curl: the instance metadata service (IMDSv2 token, then the private IP); any other URL succeeds silently.
    stub(bin, "curl", logLine + "case \"$*\" in *api/token*) echo imds-token;; *local-ipv4*) echo 10.0.1.23;; esac\n");
    for (String name : List.of("dnf", "useradd", "chown", "systemctl")) {
      stub(bin, name, logLine);
    }
    stub(bin, "id", logLine + "exit 1\n"); // the service user does not exist yet
    stub(bin, "install", logLine
        + "args=(); while [ $# -gt 0 ]; do case \"$1\" in -o|-g) shift 2;; *) args+=(\"$1\"); shift;; esac; done\n"
        + "exec /usr/bin/install \"${args[@]}\"\n");
    // The stubs shadow only these names; sleep is made instant so failing retries stay fast.
    stub(bin, "sleep", "exit 0\n");
    return bin;
  }

  private static void stub(Path bin, String name, String body) throws IOException {
    Path file = bin.resolve(name);
    Files.writeString(file, "#!/bin/bash\n" + body);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private static void put(Path s3, String key, byte[] content) throws IOException {
    Path file = s3.resolve(BUCKET).resolve(key);
    Files.createDirectories(file.getParent());
    Files.write(file, content);
  }
}
