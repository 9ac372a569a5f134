package cifarserve.ec2;

import com.hazelcast.config.Config;
import com.hazelcast.core.Hazelcast;
import java.util.Properties;

/** A Hazelcast member from conf/cluster-local.xml in its own JVM (for the SIGKILL test): args = cluster name. */
public final class MemberMain {

  private MemberMain() {
  }

  public static void main(String[] args) throws Exception {
    Config config = HazelcastXmlTest.loadLocalMember();
    config.setClusterName(args[0]);
    Hazelcast.newHazelcastInstance(config);
    System.out.println("MEMBER-STARTED");
    Thread.sleep(120_000); // bounded: the test kills it long before
    System.exit(0);
  }
}
