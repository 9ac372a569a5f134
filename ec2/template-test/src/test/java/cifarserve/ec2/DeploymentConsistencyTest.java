package cifarserve.ec2;

import static cifarserve.ec2.Template.map;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The EC2 files must agree with each other: the systemd unit, conf/ec2.json, conf/cluster-aws.xml, the provisioning
 * script and the template name the same paths, ports, tags and properties. Also runs the standard linters when they
 * are installed (systemd-analyze, cfn-lint, shellcheck).
 */
class DeploymentConsistencyTest {

  private final SystemdUnit unit = SystemdUnit.parse(RepoFiles.read("ec2/cifar-serve.service"));
  private final Map<String, Object> ec2Json = Template.yaml(RepoFiles.read("conf/ec2.json"));
  private final Template template = Template.load();

  @Test
  void theUnitStartsTheJarInClusterModeWithTheEc2Configs() {
    List<String> exec = unit.execStart();
    assertEquals("/usr/bin/java", exec.get(0));
    Map<String, Object> cluster = map(ec2Json.get("cluster"), "cluster");
    assertTrue(exec.contains("-Dvertx.hazelcast.config=" + cluster.get("config")), exec.toString());
    assertEquals("/etc/cifar-serve/cluster-aws.xml", cluster.get("config"));
    int jar = exec.indexOf("-jar");
    assertEquals(List.of("/opt/cifar-serve/cifar-serve.jar", "serve", "--conf", "/etc/cifar-serve/ec2.json", "--cluster"),
        exec.subList(jar + 1, exec.size()));
    assertEquals(Boolean.TRUE, cluster.get("enabled"));
    assertEquals(5800, cluster.get("eventBusPort"));
    assertEquals(Boolean.FALSE, ec2Json.get("trainOnStart"));
    assertEquals("false", unit.environment().get("TRAIN_ON_START"));
    assertEquals(ec2Json.get("modelDir"), unit.environment().get("MODEL_DIR"));
    assertEquals(ec2Json.get("cifarDir"), unit.environment().get("CIFAR_DIR"));
  }

  @Test
  void everyPlaceholderOfTheAwsClusterConfigIsPassedByTheUnit() {
    Matcher placeholders = Pattern.compile("\\$\\{([a-zA-Z0-9.\\-]+)}")
        .matcher(RepoFiles.read("conf/cluster-aws.xml").replaceAll("(?s)<!--.*?-->", ""));
    Set<String> names = new TreeSet<>();
    while (placeholders.find()) {
      names.add(placeholders.group(1));
    }
    assertEquals(Set.of("cifar.cluster.tag-key", "cifar.cluster.tag-value", "cifar.cluster.region",
        "cifar.cluster.interface"), names);
    List<String> exec = unit.execStart();
    for (String name : names) {
      assertTrue(exec.stream().anyMatch(a -> a.startsWith("-D" + name + "=${")), "-D" + name + " in ExecStart");
    }
    // Defaults agree: the unit, the provisioning script and the template name the same tag key.
    String tagKey = (String) template.parameter("ClusterTagKey").get("Default");
    assertEquals(tagKey, unit.environment().get("CLUSTER_TAG_KEY"));
    assertTrue(RepoFiles.read("ec2/user-data.sh").contains("CLUSTER_TAG_KEY=\"${CLUSTER_TAG_KEY:-" + tagKey + "}\""));
    assertTrue(unit.values("Service", "EnvironmentFile").contains("-/etc/cifar-serve/cluster.env"),
        "overrides written by user-data.sh");
  }

  @Test
  void theServiceGetsTheClusterSecretAsACredentialAndBindsThePrivateIp() {
    // A root-only file (user-data.sh writes it 0400), copied by systemd into the service's credentials directory.
    assertEquals(List.of("cluster-secret:/etc/cifar-serve/secrets/cluster-secret"), unit.values("Service", "LoadCredential"));
    assertEquals("%d/cluster-secret", unit.environment().get("CLUSTER_SECRET_FILE"));
    String provision = RepoFiles.read("ec2/user-data.sh");
    assertTrue(provision.contains("fetch_secret \"$CLUSTER_SECRET_ID\" \"$SECRETS_DIR/cluster-secret\""), "written by user-data.sh");
    assertTrue(provision.contains("LoadCredential=admin-token:/etc/cifar-serve/secrets/admin-token\nEnvironment=ADMIN_TOKEN_FILE=%d/admin-token"),
        "the admin token's drop-in");
    // Hazelcast binds the interface user-data.sh found (empty by default: no match, the node does not start).
    assertEquals("", unit.environment().get("CLUSTER_INTERFACE"));
    assertTrue(unit.execStart().contains("-Dcifar.cluster.interface=${CLUSTER_INTERFACE}"));
    assertTrue(provision.contains("CLUSTER_INTERFACE=${ip}\nEVENTBUS_HOST=${ip}\n"), "cluster.env: Hazelcast and event bus on the private IP");
  }

  @Test
  void portsAgreeAcrossTheServiceConfigHazelcastAndTheTemplate() {
    Map<String, Object> http = map(ec2Json.get("http"), "http");
    Map<String, Object> targetGroup =
        template.properties(template.onlyResourceOfType("AWS::ElasticLoadBalancingV2::TargetGroup"));
    assertEquals(http.get("port"), targetGroup.get("Port"));
    assertEquals("0.0.0.0", http.get("host"), "the ALB reaches the node's private IP");

    // Hazelcast's member port range equals the security group's range.
    String xml = RepoFiles.read("conf/cluster-aws.xml");
    assertTrue(xml.contains("<hz-port>5701-5708</hz-port>"));
    assertTrue(xml.contains("<port auto-increment=\"true\" port-count=\"8\">5701</port>"));
    List<Map<String, Object>> selfRules = new ArrayList<>();
    for (String id : template.resourcesOfType("AWS::EC2::SecurityGroupIngress")) {
      Map<String, Object> rule = template.properties(id);
      if (Template.ref("NodeSecurityGroup").equals(rule.get("SourceSecurityGroupId"))) {
        selfRules.add(rule);
      }
    }
    assertTrue(selfRules.stream().anyMatch(r -> r.get("FromPort").equals(5701) && r.get("ToPort").equals(5708)));
    Object eventBusPort = map(ec2Json.get("cluster"), "cluster").get("eventBusPort");
    assertTrue(selfRules.stream().anyMatch(r -> r.get("FromPort").equals(eventBusPort) && r.get("ToPort").equals(eventBusPort)),
        "event-bus port " + eventBusPort + " open between nodes");
  }

  @Test
  void theUnitSetsTheEngineAndTrainingEnvironmentsOfConfJvmEnv() {
    // conf/jvm.env is their home (run.sh, the bench scripts and the images read it); the unit cannot. The node
    // trains, so it gets TRAIN_ENV as well (the function image does not: FunctionImageTest).
    for (String name : List.of("ENGINE_ENV", "TRAIN_ENV")) {
      Matcher env = Pattern.compile("(?m)^" + name + "=\"([^\"]*)\"").matcher(RepoFiles.read("conf/jvm.env"));
      assertTrue(env.find(), name + " in conf/jvm.env");
      for (String pair : env.group(1).trim().split("\\s+")) {
        if (pair.isEmpty()) {
          continue; // an empty list (TRAIN_ENV today)
        }
        int eq = pair.indexOf('=');
        assertEquals(pair.substring(eq + 1), unit.environment().get(pair.substring(0, eq)), name + ": " + pair);
      }
    }
  }

  @Test
  void memoryLimitsFitAT3MediumAndTheJvmFitsTheLimits() {
    long instance = 4L * 1024; // MiB, t3.medium
    long memoryMax = mebibytes(unit.value("Service", "MemoryMax"));
    long memoryHigh = mebibytes(unit.value("Service", "MemoryHigh"));
    assertTrue(memoryHigh < memoryMax && memoryMax <= instance - 512, "leave >= 512 MiB to the OS: " + memoryMax);
    List<String> exec = unit.execStart();
    long heap = mebibytes(option(exec, "-Xmx"));
    long direct = mebibytes(option(exec, "-XX:MaxDirectMemorySize="));
    long javacpp = mebibytes(option(exec, "-Dorg.bytedeco.javacpp.maxbytes="));
    long physical = mebibytes(option(exec, "-Dorg.bytedeco.javacpp.maxphysicalbytes="));
    assertEquals(1024, heap, "-Xmx1g");
    assertTrue(heap + direct + javacpp + 256 <= memoryHigh, "heap+direct+javacpp+~256 MiB JVM overhead under MemoryHigh");
    assertTrue(physical <= memoryHigh, "JavaCPP's RSS ceiling must trip before the cgroup throttles");
  }

  @Test
  void theUnitRestartsOnFailureStopsGracefullyAndIsHardened() {
    assertEquals("cifar-serve", unit.value("Service", "User"));
    assertEquals("on-failure", unit.value("Service", "Restart"));
    assertEquals("SIGTERM", unit.value("Service", "KillSignal"));
    long stop = Long.parseLong(unit.value("Service", "TimeoutStopSec"));
    // ALB deregistration (30 s) happens before systemd stops the unit; Hazelcast's graceful hand-over is bounded by 60 s.
    assertTrue(stop > 60, "TimeoutStopSec " + stop + " must exceed hazelcast.graceful.shutdown.max.wait (60 s)");
    assertTrue(RepoFiles.read("conf/cluster-aws.xml")
        .contains("<property name=\"hazelcast.graceful.shutdown.max.wait\">60</property>"));
    int drainMs = (Integer) map(ec2Json.get("shutdown"), "shutdown").get("drainTimeoutMs");
    assertTrue(drainMs / 1000 + 60 < stop, "drain " + drainMs + " ms + cluster leave 60 s fit in TimeoutStopSec " + stop);
    assertEquals("true", unit.value("Service", "NoNewPrivileges"));
    assertEquals("strict", unit.value("Service", "ProtectSystem"));
    assertEquals("true", unit.value("Service", "PrivateTmp"));
    assertTrue(unit.value("Service", "ReadWritePaths").contains("/var/lib/cifar-serve"));
    assertTrue(unit.value("Service", "SuccessExitStatus").contains("143"), "SIGTERM exit is a clean stop");
    assertEquals("65536", unit.value("Service", "LimitNOFILE"));
    assertNull(unit.value("Service", "MemoryDenyWriteExecute"), "the JIT needs W+X memory");
  }

  // ---- linters, when installed ----

  @Test
  void systemdAcceptsTheUnit() throws Exception {
    assumeTrue(onPath("systemd-analyze"), "systemd-analyze not installed");
    assumeTrue(new File("/usr/bin/java").canExecute(), "verify checks that ExecStart's binary exists");
    Result r = run("systemd-analyze", "verify", RepoFiles.path("ec2/cifar-serve.service").toString());
    assertEquals(0, r.code, r.output);
    // verify reports unknown keys and bad values as warnings with exit 0: any output is a defect.
    assertEquals("", r.output.strip());
  }

  @Test
  void cfnLintAcceptsTheTemplate() throws Exception {
    assumeTrue(onPath("cfn-lint"), "cfn-lint not installed");
    Result r = run("cfn-lint", RepoFiles.path("ec2/cloudformation.yaml").toString());
    assertEquals(0, r.code, r.output);
  }

  @Test
  void shellcheckAcceptsTheScripts() throws Exception {
    assumeTrue(onPath("shellcheck"), "shellcheck not installed");
    Result r = run("shellcheck", RepoFiles.path("ec2/user-data.sh").toString(),
        RepoFiles.path("ec2/upload-artifacts.sh").toString(), RepoFiles.path("ec2/cifar-serve-liveness.sh").toString());
    assertEquals(0, r.code, r.output);
  }

  // ---- helpers ----

  record Result(int code, String output) {
  }

  static Result run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(120, TimeUnit.SECONDS), String.join(" ", command) + " hung");
    return new Result(p.exitValue(), out);
  }

  static boolean onPath(String tool) {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
      if (new File(dir, tool).canExecute()) {
        return true;
      }
    }
    return false;
  }

  static String option(List<String> exec, String prefix) {
    return exec.stream().filter(a -> a.startsWith(prefix)).map(a -> a.substring(prefix.length()))
        .findFirst().orElseThrow(() -> new AssertionError("no " + prefix + " in ExecStart"));
  }

  /** "1g", "1536m", "3400M" -> MiB. */
  static long mebibytes(String size) {
    assertFalse(size == null || size.isEmpty(), "size missing");
    char unit = Character.toLowerCase(size.charAt(size.length() - 1));
    long n = Long.parseLong(size.substring(0, size.length() - 1));
    return switch (unit) {
      case 'g' -> n * 1024;
      case 'm' -> n;
      default -> throw new AssertionError("unexpected size " + size);
    };
  }
}
