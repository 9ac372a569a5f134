package cifarserve.cluster;

import cifarserve.TestServers;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;

/** HTTP helpers the multi-process cluster tests share: GET, bounded polling, metrics, membership. */
final class NodeClient {
  private final WebClient client;

  NodeClient(WebClient client) {
    this.client = client;
  }

  record Answer(int status, JsonObject body) {
  }

  interface Check {
    boolean test(int status, JsonObject body);
  }

  Future<HttpResponse<Buffer>> classify(ClusterNode node, Buffer image) {
    return client.post(node.port, "127.0.0.1", "/v1/classify").timeout(20_000)
        .putHeader("Content-Type", "application/octet-stream").sendBuffer(image);
  }

  Answer get(ClusterNode node, String path) {
    HttpResponse<Buffer> response = TestServers.await(client.get(node.port, "127.0.0.1", path).timeout(10_000).send());
    JsonObject body;
    try {
      body = response.bodyAsJsonObject();
    } catch (RuntimeException e) {
      body = new JsonObject();
    }
    return new Answer(response.statusCode(), body == null ? new JsonObject() : body);
  }

  /** The sum of a Prometheus metric's samples whose line starts with {@code prefix} (name and labels). */
  double metric(ClusterNode node, String prefix) {
    String metrics = TestServers.await(client.get(node.port, "127.0.0.1", "/metrics").send()).bodyAsString();
    double sum = 0;
    for (String line : metrics.split("\n")) {
      if (line.startsWith(prefix)) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return sum;
  }

  /** Polls until the check holds (bounded); fails with the node's log tail if the node died or time ran out. */
  JsonObject poll(ClusterNode node, String path, long timeoutMs, Check check) throws InterruptedException {
    long deadline = System.currentTimeMillis() + timeoutMs;
    Answer last = null;
    while (System.currentTimeMillis() < deadline) {
      if (!node.alive()) {
        throw new AssertionError(node + " exited; log tail:\n" + node.logTail());
      }
      try {
        last = get(node, path);
        if (check.test(last.status, last.body)) {
          return last.body;
        }
      } catch (AssertionError e) {
        // not listening yet
      }
      Thread.sleep(200);
    }
    throw new AssertionError("GET " + path + " on " + node + " did not reach the expected state in " + timeoutMs
        + " ms; last: " + last + "\nlog tail:\n" + node.logTail());
  }

  /** Waits until the node's cifar_cluster_nodes gauge shows {@code members} (one cluster, no split). */
  void awaitMembers(ClusterNode node, int members) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 60_000;
    double seen = -1;
    while (System.currentTimeMillis() < deadline) {
      seen = metric(node, "cifar_cluster_nodes");
      if (seen == members) {
        return;
      }
      Thread.sleep(500);
    }
    throw new AssertionError(node + " sees " + seen + " cluster members, expected " + members);
  }
}
