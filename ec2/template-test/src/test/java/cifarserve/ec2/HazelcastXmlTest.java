package cifarserve.ec2;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.hazelcast.config.AwsConfig;
import com.hazelcast.config.Config;
import com.hazelcast.config.JavaSerializationFilterConfig;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.XmlConfigBuilder;
import com.hazelcast.spi.merge.PutIfAbsentMergePolicy;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

/**
 * The two Hazelcast member configs: read as plain XML (what the file says) and through Hazelcast 5.3's own
 * {@link XmlConfigBuilder} with schema validation, the way vertx-hazelcast 5.0.10 loads them.
 */
class HazelcastXmlTest {

  static final String LOCAL = "conf/cluster-local.xml";
  static final String AWS = "conf/cluster-aws.xml";

  /** Maps and multimaps vertx-core / vertx-hazelcast 5.0.10 use, plus the model map. */
  static final List<String> REQUIRED_MAPS =
      List.of("__vertx.haInfo", "__vertx.nodeInfo", "__vertx.map.lock", "__vertx.map.counter", "cifar.models");

  // ---- plain DOM: what the files say ----

  @Test
  void localJoinsOnlyOverTcpIpOn127001() throws Exception {
    Element join = single(dom(LOCAL).getDocumentElement(), "network/join");
    assertEquals("false", single(join, "multicast").getAttribute("enabled"));
    assertEquals("false", single(join, "auto-detection").getAttribute("enabled"));
    Element tcpIp = single(join, "tcp-ip");
    assertEquals("true", tcpIp.getAttribute("enabled"));
    assertEquals(List.of("127.0.0.1"), texts(tcpIp, "member"));
    Element aws = optional(join, "aws");
    assertTrue(aws == null || "false".equals(aws.getAttribute("enabled")), "aws discovery must be off locally");

    Element interfaces = single(dom(LOCAL).getDocumentElement(), "network/interfaces");
    assertEquals("true", interfaces.getAttribute("enabled"));
    assertEquals(List.of("127.0.0.1"), texts(interfaces, "interface"));

    Element port = single(dom(LOCAL).getDocumentElement(), "network/port");
    assertEquals("5701", port.getTextContent().trim());
    assertEquals("true", port.getAttribute("auto-increment"));
    assertEquals("20", port.getAttribute("port-count"), "ports 5701-5720");
  }

  @Test
  void awsDiscoversByTagOnMemberPortsOnly() throws Exception {
    Element root = dom(AWS).getDocumentElement();
    Element join = single(root, "network/join");
    assertEquals("false", single(join, "multicast").getAttribute("enabled"));
    assertEquals("false", single(join, "auto-detection").getAttribute("enabled"));
    assertEquals("false", single(join, "tcp-ip").getAttribute("enabled"));
    Element aws = single(join, "aws");
    assertEquals("true", aws.getAttribute("enabled"));
    assertFalse(single(aws, "tag-key").getTextContent().isBlank(), "tag-key is mandatory");
    assertFalse(single(aws, "tag-value").getTextContent().isBlank(), "tag-value is mandatory");
    assertNotNull(single(aws, "region"));
    assertEquals("5701-5708", single(aws, "hz-port").getTextContent().trim());
    Element interfaces = single(root, "network/interfaces");
    assertEquals("true", interfaces.getAttribute("enabled"), "the private IP only, never 0.0.0.0");
    assertEquals(List.of("${cifar.cluster.interface}"), texts(interfaces, "interface"));
    assertEquals("false", property(root, "hazelcast.socket.bind.any"));
    Element port = single(root, "network/port");
    assertEquals("5701", port.getTextContent().trim());
    assertEquals("8", port.getAttribute("port-count"), "ports 5701-5708, as the security group opens");
  }

  @Test
  void bothConfigsNameTheClusterAndTurnPhoneHomeOff() throws Exception {
    for (String file : List.of(LOCAL, AWS)) {
      Element root = dom(file).getDocumentElement();
      assertEquals("cifar-serve", single(root, "cluster-name").getTextContent().trim(), file);
      assertEquals("false", property(root, "hazelcast.phone.home.enabled"), file);
      assertEquals("GRACEFUL", property(root, "hazelcast.shutdownhook.policy"), file);
      int heartbeat = Integer.parseInt(property(root, "hazelcast.heartbeat.interval.seconds"));
      int maxNoHeartbeat = Integer.parseInt(property(root, "hazelcast.max.no.heartbeat.seconds"));
      assertTrue(heartbeat >= 1 && maxNoHeartbeat >= 3 * heartbeat && maxNoHeartbeat <= 30,
          file + ": heartbeat " + heartbeat + " s, max-no-heartbeat " + maxNoHeartbeat + " s");
    }
  }

  // ---- Hazelcast's own loader (schema-validated), as vertx-hazelcast uses it ----

  @Test
  void localLoadsInHazelcastWithTheSettingsVertxNeeds() throws Exception {
    Config config = load(LOCAL, new Properties());
    NetworkConfig network = config.getNetworkConfig();
    JoinConfig join = network.getJoin();
    assertFalse(join.getMulticastConfig().isEnabled());
    assertFalse(join.getAutoDetectionConfig().isEnabled());
    assertFalse(join.getAwsConfig().isEnabled());
    assertTrue(join.getTcpIpConfig().isEnabled());
    assertEquals(List.of("127.0.0.1"), join.getTcpIpConfig().getMembers());
    assertTrue(network.getInterfaces().isEnabled());
    assertEquals(List.of("127.0.0.1"), List.copyOf(network.getInterfaces().getInterfaces()));
    assertEquals("false", config.getProperty("hazelcast.socket.bind.any"), "bind 127.0.0.1 only");
    assertVertxStructures(config);
  }

  @Test
  void awsLoadsInHazelcastAndTakesTagsFromSystemProperties() throws Exception {
    Properties props = new Properties();
    props.setProperty("cifar.cluster.tag-key", "cifar-serve-cluster");
    props.setProperty("cifar.cluster.tag-value", "my-stack");
    props.setProperty("cifar.cluster.region", "eu-west-1");
    props.setProperty("cifar.cluster.interface", "10.0.1.23");
    Config config = load(AWS, props);
    JoinConfig join = config.getNetworkConfig().getJoin();
    assertFalse(join.getMulticastConfig().isEnabled());
    assertFalse(join.getAutoDetectionConfig().isEnabled());
    assertFalse(join.getTcpIpConfig().isEnabled());
    AwsConfig aws = join.getAwsConfig();
    assertTrue(aws.isEnabled());
    assertEquals("cifar-serve-cluster", aws.getProperty("tag-key"));
    assertEquals("my-stack", aws.getProperty("tag-value"));
    assertEquals("eu-west-1", aws.getProperty("region"));
    assertEquals("5701-5708", aws.getProperty("hz-port"));
    assertTrue(config.getNetworkConfig().getInterfaces().isEnabled());
    assertEquals(List.of("10.0.1.23"), List.copyOf(config.getNetworkConfig().getInterfaces().getInterfaces()));
    assertEquals("false", config.getProperty("hazelcast.socket.bind.any"), "bind the private IP only");
    assertVertxStructures(config);
  }

  @Test
  void awsAcceptsAnEmptyRegionMeaningTheInstancesOwn() throws Exception {
    // The unit passes -Dcifar.cluster.region= (empty) when CLUSTER_REGION is unset; Hazelcast then asks the
    // instance metadata service for the region instead of failing the config.
    Properties props = new Properties();
    props.setProperty("cifar.cluster.tag-key", "k");
    props.setProperty("cifar.cluster.tag-value", "v");
    props.setProperty("cifar.cluster.region", "");
    AwsConfig aws = load(AWS, props).getNetworkConfig().getJoin().getAwsConfig();
    assertTrue(aws.isEnabled());
    String region = aws.getProperty("region");
    assertTrue(region == null || region.isBlank(), "region " + region);
  }

  @Test
  void awsPlaceholdersAreNotDefaultedByHazelcast() throws Exception {
    // Documents why the systemd unit must always pass the -Dcifar.cluster.* options.
    Config config = load(AWS, new Properties());
    assertEquals("${cifar.cluster.tag-key}", config.getNetworkConfig().getJoin().getAwsConfig().getProperty("tag-key"));
  }

  @Test
  void bothConfigsRefuseJavaDeserializationOutsideHazelcastAndJdkClasses() throws Exception {
    for (String file : List.of(LOCAL, AWS)) {
      Properties props = new Properties();
      props.setProperty("cifar.cluster.tag-key", "k");
      props.setProperty("cifar.cluster.tag-value", "v");
      props.setProperty("cifar.cluster.region", "");
      JavaSerializationFilterConfig filter = load(file, props).getSerializationConfig().getJavaSerializationFilterConfig();
      assertNotNull(filter, file + ": a Java serialization filter");
      assertTrue(filter.isDefaultsDisabled(), file + ": Hazelcast's default whitelist (java*, com.hazelcast.*) off");
      // Hazelcast reads an empty whitelist with the defaults off as "allow all": it must not be empty.
      // Hazelcast's and the JDK's exception families only (Hazelcast's error responses carry them).
      assertEquals(java.util.Set.of("com.hazelcast.", "java.lang.", "java.util.", "java.io.", "java.net.",
          "[Lcom.hazelcast.", "[Ljava.lang.", "[Ljava.util."), filter.getWhitelist().getPrefixes(), file);
      assertTrue(filter.getWhitelist().getClasses().isEmpty() && filter.getWhitelist().getPackages().isEmpty(), file);
    }
  }

  @Test
  void bothConfigsMergeTheModelMapKeepingTheNewestValidVersion() throws Exception {
    for (String file : List.of(LOCAL, AWS)) {
      Properties props = new Properties();
      props.setProperty("cifar.cluster.interface", "10.0.1.23");
      assertEquals("cifarserve.cluster.ModelMapMergePolicy",
          load(file, props).getMapConfig("cifar.models").getMergePolicyConfig().getPolicy(), file);
    }
  }

  private static void assertVertxStructures(Config config) {
    MultiMapConfig subs = config.getMultiMapConfigs().get("__vertx.subs");
    assertNotNull(subs, "__vertx.subs multimap");
    assertEquals(MultiMapConfig.ValueCollectionType.SET, subs.getValueCollectionType());
    assertEquals(1, subs.getBackupCount());
    for (String name : REQUIRED_MAPS) {
      assertNotNull(config.getMapConfigOrNull(name), name);
      assertEquals(1, config.getMapConfig(name).getBackupCount(), name + " backup-count");
    }
    assertEquals(0, config.getCPSubsystemConfig().getCPMemberCount(), "no CP subsystem");
    assertFalse(config.getJetConfig().isEnabled(), "no Jet");
  }

  // ---- helpers ----

  /**
   * cluster-local.xml for a member started in THIS module, whose classpath lacks the node jar: the model map's
   * merge policy (cifarserve.cluster.ModelMapMergePolicy, unit-tested in the verticles module) is swapped for
   * Hazelcast's PutIfAbsent, or creating the map would fail on the missing class.
   */
  static Config loadLocalMember() throws Exception {
    Config config = load(LOCAL, new Properties());
    config.getMapConfig("cifar.models").getMergePolicyConfig().setPolicy(PutIfAbsentMergePolicy.class.getName());
    return config;
  }

  static Config load(String file, Properties props) throws Exception {
    try (InputStream in = Files.newInputStream(RepoFiles.path(file))) {
      XmlConfigBuilder builder = new XmlConfigBuilder(in);
      builder.setProperties(props);
      return builder.build();
    }
  }

  static Document dom(String file) throws Exception {
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    factory.setNamespaceAware(false);
    factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
    return factory.newDocumentBuilder().parse(RepoFiles.path(file).toFile());
  }

  /** The single descendant reached by a slash-separated path of child element names. */
  static Element single(Element from, String path) {
    Element current = from;
    for (String name : path.split("/")) {
      List<Element> found = children(current, name);
      assertEquals(1, found.size(), "exactly one <" + name + "> under <" + current.getTagName() + ">");
      current = found.get(0);
    }
    return current;
  }

  static Element optional(Element from, String name) {
    List<Element> found = children(from, name);
    return found.isEmpty() ? null : found.get(0);
  }

  static List<Element> children(Element parent, String name) {
    List<Element> result = new ArrayList<>();
    NodeList nodes = parent.getChildNodes();
    for (int i = 0; i < nodes.getLength(); i++) {
      Node node = nodes.item(i);
      if (node instanceof Element element && element.getTagName().equals(name)) {
        result.add(element);
      }
    }
    return result;
  }

  static List<String> texts(Element parent, String name) {
    return children(parent, name).stream().map(e -> e.getTextContent().trim()).toList();
  }

  static String property(Element root, String name) {
    for (Element p : children(single(root, "properties"), "property")) {
      if (name.equals(p.getAttribute("name"))) {
        return p.getTextContent().trim();
      }
    }
    throw new AssertionError("no property " + name);
  }
}
