package cifarserve.ec2;

import static cifarserve.ec2.Template.list;
import static cifarserve.ec2.Template.map;
import static cifarserve.ec2.Template.ref;
import static cifarserve.ec2.Template.strings;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The resources, ports and IAM policy ec2/cloudformation.yaml gives the nodes. */
class CloudFormationTemplateTest {

  static final Set<String> CIDR_KEYS = Set.of("CidrIp", "CidrIpv6", "SourcePrefixListId");

  private final Template template = Template.load();

  @Test
  void nodesAreT3MediumFromOneLaunchTemplateInAnAutoScalingGroup() {
    assertEquals("t3.medium", template.parameter("InstanceType").get("Default"));
    String launchTemplate = template.onlyResourceOfType("AWS::EC2::LaunchTemplate");
    Map<String, Object> data = map(template.properties(launchTemplate).get("LaunchTemplateData"), "LaunchTemplateData");
    assertEquals(ref("InstanceType"), data.get("InstanceType"));

    String group = template.onlyResourceOfType("AWS::AutoScaling::AutoScalingGroup");
    Map<String, Object> asg = template.properties(group);
    assertEquals(ref(launchTemplate), map(asg.get("LaunchTemplate"), "LaunchTemplate").get("LaunchTemplateId"));
    assertEquals(ref("NodeCount"), asg.get("DesiredCapacity"));
    assertEquals(3, template.parameter("NodeCount").get("Default"));
  }

  @Test
  void theGroupReplacesDeadNodesNotUnreadyOnes() {
    Map<String, Object> asg = template.properties(template.onlyResourceOfType("AWS::AutoScaling::AutoScalingGroup"));
    // ELB would replace every node whose READINESS check fails: a cluster training its first model, all unready,
    // would be recycled and lose the run. EC2 status checks, plus the node's own liveness probe.
    assertEquals("EC2", asg.get("HealthCheckType"));
    String probe = RepoFiles.read("ec2/cifar-serve-liveness.sh");
    assertTrue(probe.contains("http://127.0.0.1:8080/v2/health/live"), "liveness, not readiness");
    assertFalse(probe.contains("/v2/health/ready"));
    assertTrue(probe.contains("aws autoscaling set-instance-health --instance-id \"$instance\" --health-status Unhealthy"));
    assertTrue(RepoFiles.read("ec2/user-data.sh").contains("systemctl enable --now cifar-serve-liveness.timer"));
    // The node may report only instances of this stack's group (its Name tag), and nothing else of Auto Scaling.
    Map<String, Object> report = statements().stream()
        .filter(s -> strings(s.get("Action")).contains("autoscaling:SetInstanceHealth")).findFirst()
        .orElseThrow(() -> new AssertionError("autoscaling:SetInstanceHealth"));
    assertEquals(List.of("autoscaling:SetInstanceHealth"), strings(report.get("Action")));
    Map<String, Object> equals = map(map(report.get("Condition"), "Condition").get("StringEquals"), "StringEquals");
    assertEquals(Map.of("Fn::Sub", "${AWS::StackName}-node"), equals.get("autoscaling:ResourceTag/Name"));
    assertTrue(list(asg.get("Tags"), "Tags").stream().map(t -> map(t, "tag"))
        .anyMatch(t -> "Name".equals(t.get("Key")) && Map.of("Fn::Sub", "${AWS::StackName}-node").equals(t.get("Value"))));
  }

  @Test
  void theStackGeneratesTheClusterSecretAndTheAdminTokenAndOnlyNodesReadThem() {
    Map<String, Object> secret = template.properties("ClusterSecret");
    assertEquals("AWS::SecretsManager::Secret", template.resource("ClusterSecret").get("Type"));
    assertTrue(((Number) map(secret.get("GenerateSecretString"), "GenerateSecretString").get("PasswordLength")).intValue() >= 32,
        "the service refuses a secret shorter than 32 characters");
    assertEquals("AWS::SecretsManager::Secret", template.resource("AdminToken").get("Type"));
    assertEquals("HasAdminApi", template.resource("AdminToken").get("Condition"));
    assertEquals("disabled", strings(template.parameter("AdminApi").get("AllowedValues")).get(1));

    Map<String, Object> read = statements().stream()
        .filter(s -> strings(s.get("Action")).contains("secretsmanager:GetSecretValue")).findFirst()
        .orElseThrow(() -> new AssertionError("secretsmanager:GetSecretValue"));
    List<Object> resources = list(read.get("Resource"), "Resource");
    assertEquals(ref("ClusterSecret"), resources.get(0));
    assertEquals(Map.of("Fn::If", List.of("HasAdminApi", ref("AdminToken"), ref("AWS::NoValue"))), resources.get(1));
    assertEquals(2, resources.size(), "this stack's two secrets, nothing else");

    String bootstrap = userData();
    assertTrue(bootstrap.contains("export CLUSTER_SECRET_ID='${ClusterSecret}'"), bootstrap);
    assertTrue(bootstrap.contains("export ADMIN_TOKEN_ID='${AdminTokenId}'"), bootstrap);
    Map<String, Object> vars = map(list(map(map(map(template.properties("NodeLaunchTemplate").get("LaunchTemplateData"),
        "data").get("UserData"), "UserData").get("Fn::Base64"), "Fn::Base64").get("Fn::Sub"), "Fn::Sub").get(1), "vars");
    assertEquals(Map.of("Fn::If", List.of("HasAdminApi", ref("AdminToken"), "")), vars.get("AdminTokenId"));
  }

  @Test
  void aModelKeyNamingOneFileOfAnArtifactFailsTheStack() {
    Pattern allowed = Pattern.compile(String.valueOf(template.parameter("ModelKey").get("AllowedPattern")));
    for (String ok : List.of("", "cifar-serve/models/", "cifar-serve/models/cnn-20261201T120421Z-d556")) {
      assertTrue(allowed.matcher(ok).matches(), ok);
    }
    for (String bad : List.of("cifar-serve/models/cnn-20261201T120421Z-d556.zip", "cifar-serve/models/cnn-20261201T120421Z-d556.onnx",
        "cifar-serve/models/model.zip", "cifar-serve/models/*")) {
      assertFalse(allowed.matcher(bad).matches(), bad);
    }
  }

  @Test
  void everyListenerAnswersAdminPathsItselfWith404() {
    List<String> listeners = template.resourcesOfType("AWS::ElasticLoadBalancingV2::Listener");
    List<String> rules = template.resourcesOfType("AWS::ElasticLoadBalancingV2::ListenerRule");
    for (String listener : listeners) {
      Map<String, Object> block = rules.stream().map(template::properties)
          .filter(rule -> ref(listener).equals(rule.get("ListenerArn")))
          .filter(rule -> list(rule.get("Conditions"), "Conditions").stream().map(c -> map(c, "condition"))
              .anyMatch(c -> "path-pattern".equals(c.get("Field"))
                  && strings(map(c.get("PathPatternConfig"), "PathPatternConfig").get("Values"))
                      .containsAll(List.of("/train", "/train/*", "/admin", "/admin/*", "/metrics"))))
          .findFirst().orElseThrow(() -> new AssertionError(listener + " forwards /train to the nodes"));
      assertEquals(1, block.get("Priority"), "evaluated before any forward rule");
      Map<String, Object> action = map(list(block.get("Actions"), "Actions").get(0), "action");
      assertEquals("fixed-response", action.get("Type"));
      assertEquals("404", map(action.get("FixedResponseConfig"), "FixedResponseConfig").get("StatusCode"));
    }
    assertFalse(listeners.isEmpty());
  }

  @Test
  void theAmiComesFromAnSsmParameter() {
    Map<String, Object> image = template.parameter("ImageId");
    assertEquals("AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>", image.get("Type"));
    assertTrue(String.valueOf(image.get("Default")).startsWith("/aws/service/"), "public SSM AMI parameter");
  }

  @Test
  void theClusterTagIsPropagatedToEveryNodeAndPassedToDiscovery() {
    Map<String, Object> asg = template.properties(template.onlyResourceOfType("AWS::AutoScaling::AutoScalingGroup"));
    Map<String, Object> tag = list(asg.get("Tags"), "Tags").stream()
        .map(t -> map(t, "tag"))
        .filter(t -> ref("ClusterTagKey").equals(t.get("Key")))
        .findFirst().orElseThrow(() -> new AssertionError("no tag keyed by the ClusterTagKey parameter"));
    assertEquals(ref("AWS::StackName"), tag.get("Value"));
    assertEquals(Boolean.TRUE, tag.get("PropagateAtLaunch"));

    String bootstrap = userData();
    assertTrue(bootstrap.contains("export CLUSTER_TAG_KEY='${ClusterTagKey}'"), bootstrap);
    assertTrue(bootstrap.contains("export CLUSTER_TAG_VALUE='${AWS::StackName}'"), bootstrap);
  }

  /** The node role's policy statements (a conditional one, Fn::If [condition, statement, AWS::NoValue], as its statement). */
  List<Map<String, Object>> statements() {
    String role = template.onlyResourceOfType("AWS::IAM::Role");
    List<Map<String, Object>> statements = new ArrayList<>();
    for (Object policy : list(template.properties(role).get("Policies"), "Policies")) {
      Map<String, Object> document = map(map(policy, "policy").get("PolicyDocument"), "PolicyDocument");
      for (Object s : list(document.get("Statement"), "Statement")) {
        Map<String, Object> statement = map(s, "statement");
        if (statement.containsKey("Fn::If")) {
          statement = map(list(statement.get("Fn::If"), "Fn::If").get(1), "statement");
        }
        statements.add(statement);
      }
    }
    return statements;
  }

  @Test
  void theNodeRoleMayDescribeInstancesAndReadTheArtifactBucket() {
    String role = template.onlyResourceOfType("AWS::IAM::Role");
    List<Map<String, Object>> statements = statements();
    assertTrue(statements.stream().anyMatch(s -> "Allow".equals(s.get("Effect"))
        && strings(s.get("Action")).contains("ec2:DescribeInstances")), "ec2:DescribeInstances for Hazelcast discovery");
    Map<String, Object> s3 = statements.stream()
        .filter(s -> "Allow".equals(s.get("Effect")) && strings(s.get("Action")).contains("s3:GetObject"))
        .findFirst().orElseThrow(() -> new AssertionError("s3:GetObject"));
    // Scoped to the objects the stack names (issue 14), never the whole bucket.
    String readable = String.valueOf(s3.get("Resource"));
    for (String object : List.of("${ArtifactBucket}/${JarKey}", "${ArtifactBucket}/${ConfigPrefix}*",
        "${ArtifactBucket}/${ModelKey}*", "${ArtifactBucket}/${CifarKey}")) {
      assertTrue(readable.contains(object), "GetObject on " + object + ": " + s3);
    }
    assertFalse(readable.contains("${ArtifactBucket}/*"), "GetObject on the whole bucket: " + s3);
    for (Map<String, Object> statement : statements) {
      assertFalse(strings(statement.get("Action")).stream().anyMatch(a -> a.equals("*") || a.endsWith(":*")),
          "no wildcard actions: " + statement);
    }

    String profile = template.onlyResourceOfType("AWS::IAM::InstanceProfile");
    assertEquals(List.of(ref(role)), template.properties(profile).get("Roles"));
    Map<String, Object> data = map(template.properties("NodeLaunchTemplate").get("LaunchTemplateData"), "data");
    assertEquals(Map.of("Fn::GetAtt", List.of(profile, "Arn")),
        map(data.get("IamInstanceProfile"), "IamInstanceProfile").get("Arn"));
  }

  @Test
  void clusterPortsAreOpenOnlyBetweenNodes() {
    List<Map<String, Object>> rules = ingressRules("NodeSecurityGroup");
    Set<Integer> clusterPorts = new TreeSet<>();
    for (Map<String, Object> rule : rules) {
      int from = port(rule.get("FromPort"));
      int to = port(rule.get("ToPort"));
      assertFalse("-1".equals(String.valueOf(rule.get("IpProtocol"))), "no all-protocol rule: " + rule);
      boolean touchesCluster = (from <= 5708 && to >= 5701) || (from <= 5800 && to >= 5800);
      if (touchesCluster) {
        assertEquals(ref("NodeSecurityGroup"), rule.get("SourceSecurityGroupId"), "cluster port from nodes only: " + rule);
        assertTrue(rule.keySet().stream().noneMatch(CIDR_KEYS::contains), "no CIDR on cluster ports: " + rule);
        assertEquals("tcp", rule.get("IpProtocol"));
        for (int p = from; p <= to; p++) {
          clusterPorts.add(p);
        }
      }
    }
    Set<Integer> expected = new TreeSet<>(List.of(5701, 5702, 5703, 5704, 5705, 5706, 5707, 5708, 5800));
    assertEquals(expected, clusterPorts, "Hazelcast 5701-5708 and the event bus 5800, nothing else");
  }

  @Test
  void serviceHttpIsOpenFromTheLoadBalancer() {
    List<Map<String, Object>> http = ingressRules("NodeSecurityGroup").stream()
        .filter(r -> port(r.get("FromPort")) <= 8080 && port(r.get("ToPort")) >= 8080)
        .toList();
    assertTrue(http.stream().anyMatch(r -> ref("AlbSecurityGroup").equals(r.get("SourceSecurityGroupId"))), http.toString());
    // No CIDR reaches the API port: the monitoring CIDR gets the metrics-only listener (9404) and nothing else.
    for (Map<String, Object> rule : http) {
      assertTrue(rule.keySet().stream().noneMatch(CIDR_KEYS::contains), "a CIDR on the API port: " + rule);
    }
    Map<String, Object> monitoring = template.properties("NodeMonitoringIngress");
    assertEquals("HasMonitoringCidr", template.resource("NodeMonitoringIngress").get("Condition"));
    assertEquals(ref("MonitoringCidr"), monitoring.get("CidrIp"));
    assertEquals(9404, port(monitoring.get("FromPort")));
    assertEquals(9404, port(monitoring.get("ToPort")));
    Map<String, Object> ec2Http = map(Template.yaml(RepoFiles.read("conf/ec2.json")).get("http"), "http");
    assertEquals(9404, ec2Http.get("metricsPort"), "the node's metrics-only listener");
    String lb = template.onlyResourceOfType("AWS::ElasticLoadBalancingV2::LoadBalancer");
    assertEquals("internet-facing", template.properties(lb).get("Scheme"));
    assertEquals(List.of(ref("AlbSecurityGroup")), template.properties(lb).get("SecurityGroups"));
  }

  @Test
  void theTargetGroupChecksReadinessOnTheServicePort() {
    String targetGroup = template.onlyResourceOfType("AWS::ElasticLoadBalancingV2::TargetGroup");
    Map<String, Object> tg = template.properties(targetGroup);
    assertEquals("/v2/health/ready", tg.get("HealthCheckPath"));
    assertEquals(8080, tg.get("Port"));
    assertEquals("HTTP", tg.get("Protocol"));
    Map<String, Object> asg = template.properties(template.onlyResourceOfType("AWS::AutoScaling::AutoScalingGroup"));
    assertEquals(List.of(ref(targetGroup)), asg.get("TargetGroupARNs"));
    boolean forwarded = template.resourcesOfType("AWS::ElasticLoadBalancingV2::Listener").stream()
        .flatMap(l -> list(template.properties(l).get("DefaultActions"), "DefaultActions").stream())
        .map(a -> map(a, "action"))
        .anyMatch(a -> "forward".equals(a.get("Type")) && ref(targetGroup).equals(a.get("TargetGroupArn")));
    assertTrue(forwarded, "a listener forwards to the target group");
  }

  @Test
  void userDataRunsTheProvisioningScriptWithEveryVariableItReads() {
    String bootstrap = userData();
    assertTrue(bootstrap.startsWith("#!/bin/bash\n"), bootstrap);
    assertTrue(bootstrap.contains("s3://${ArtifactBucket}/${ConfigPrefix}user-data.sh"), "fetches ec2/user-data.sh");
    assertTrue(bootstrap.contains("exec bash /root/cifar-serve-user-data.sh"), "runs it");
    // ... but only the script the stack pinned: the hash check comes before the exec and exits on mismatch.
    int check = bootstrap.indexOf("echo '${ProvisioningScriptSha256}  /root/cifar-serve-user-data.sh' | sha256sum -c");
    assertTrue(check > 0 && check < bootstrap.indexOf("exec bash"), "SHA-256 checked before running");
    assertTrue(bootstrap.substring(check, bootstrap.indexOf("exec bash")).contains("exit 1"), "a mismatch stops the bootstrap");
    assertEquals("^[0-9a-f]{64}$", template.parameter("ProvisioningScriptSha256").get("AllowedPattern"));
    assertFalse(template.parameter("ProvisioningScriptSha256").containsKey("Default"), "no default hash");
    assertTrue(RepoFiles.read("ec2/upload-artifacts.sh").contains("ProvisioningScriptSha256=$(sha256sum ec2/user-data.sh"),
        "the upload script prints the hash to pass");

    // Every variable ec2/user-data.sh reads from its environment is exported by the bootstrap.
    Matcher vars = Pattern.compile("^(?:: \"\\$\\{|([A-Z_]+)=\"\\$\\{)([A-Z_]+)(?::\\?|:-)", Pattern.MULTILINE)
        .matcher(RepoFiles.read("ec2/user-data.sh"));
    Set<String> read = new TreeSet<>();
    while (vars.find()) {
      read.add(vars.group(2));
    }
    read.remove("PROVISION_ROOT"); // a test hook, empty on a real node
    read.remove("READY_TIMEOUT"); // a tuning knob with a default, not a stack parameter
    assertTrue(read.containsAll(Set.of("ARTIFACT_BUCKET", "JAR_KEY", "CONFIG_PREFIX", "MODEL_KEY", "CLUSTER_TAG_KEY")),
        "parsed the script's inputs: " + read);
    for (String variable : read) {
      assertTrue(bootstrap.contains("export " + variable + "='${"), variable + " exported by the UserData bootstrap");
    }
  }

  @Test
  void outputsTheLoadBalancerDnsName() {
    Map<String, Object> outputs = map(template.root.get("Outputs"), "Outputs");
    String lb = template.onlyResourceOfType("AWS::ElasticLoadBalancingV2::LoadBalancer");
    assertTrue(outputs.values().stream().map(o -> map(o, "output").get("Value"))
        .anyMatch(v -> Map.of("Fn::GetAtt", List.of(lb, "DNSName")).equals(v)), outputs.toString());
  }

  // ---- helpers ----

  /** The bootstrap script of the launch template (the string under Fn::Base64 / Fn::Sub). */
  String userData() {
    Map<String, Object> data = map(template.properties("NodeLaunchTemplate").get("LaunchTemplateData"), "data");
    Map<String, Object> base64 = map(data.get("UserData"), "UserData");
    Object sub = map(base64.get("Fn::Base64"), "Fn::Base64").get("Fn::Sub");
    // Fn::Sub [script, variables] or a bare script.
    return String.valueOf(sub instanceof List<?> withVariables ? withVariables.get(0) : sub);
  }

  /** Inline rules of a security group plus the standalone ingress resources attached to it. */
  List<Map<String, Object>> ingressRules(String groupId) {
    List<Map<String, Object>> rules = new ArrayList<>();
    Object inline = template.properties(groupId).get("SecurityGroupIngress");
    if (inline != null) {
      for (Object rule : list(inline, "SecurityGroupIngress")) {
        Map<String, Object> r = map(rule, "rule");
        if (r.containsKey("Fn::If")) {
          List<Object> branches = list(r.get("Fn::If"), "Fn::If");
          for (Object branch : branches.subList(1, 3)) {
            if (!ref("AWS::NoValue").equals(branch)) {
              rules.add(map(branch, "rule branch"));
            }
          }
        } else {
          rules.add(r);
        }
      }
    }
    for (String id : template.resourcesOfType("AWS::EC2::SecurityGroupIngress")) {
      Map<String, Object> rule = template.properties(id);
      if (ref(groupId).equals(rule.get("GroupId"))) {
        rules.add(rule);
      }
    }
    assertFalse(rules.isEmpty(), "no ingress rules for " + groupId);
    return rules;
  }

  static int port(Object value) {
    return Integer.parseInt(String.valueOf(value));
  }
}
