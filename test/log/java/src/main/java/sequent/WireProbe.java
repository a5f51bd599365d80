package sequent;

import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.common.Node;

/**
 * Asks a broker for its cluster through the Java admin client (ApiVersions, then Metadata at the
 * highest version both sides speak) and prints what the client understood, one fact a line:
 * CLUSTER id, CONTROLLER id, NODE id host port. Used by test/kafka-wire/java-client.test.ts.
 */
public final class WireProbe {
  public static void main(String[] args) throws Exception {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0]);
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
    try (Admin admin = Admin.create(p)) {
      DescribeClusterResult r = admin.describeCluster();
      System.out.println("CLUSTER " + r.clusterId().get());
      Node c = r.controller().get();
      System.out.println("CONTROLLER " + (c == null ? "none" : c.id()));
      for (Node n : r.nodes().get()) System.out.println("NODE " + n.id() + " " + n.host() + " " + n.port());
    }
  }
}
