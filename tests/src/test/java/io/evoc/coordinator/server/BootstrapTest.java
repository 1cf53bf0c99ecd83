package io.evoc.coordinator.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cluster formation without seed nodes, as ops/k8s deploys it: Pekko Management's Cluster
 * Bootstrap finds the contact points through service discovery. Kubernetes' DNS records are not
 * here, so discovery reads the same two endpoints from config; the rest (management endpoints,
 * probing, the first node forming the cluster, the second joining it) is what runs on Kubernetes.
 */
class BootstrapTest {
  private static final String TOKEN = "bootstrap-test-token";

  @Test
  void twoNodesFormOneClusterThroughClusterBootstrap(@TempDir Path dir) throws Exception {
    int[] management = {LocalNode.freePort(), LocalNode.freePort()};
    List<String> discovery = new ArrayList<>(List.of("-Devoc.cluster.bootstrap=on",
        "-Dpekko.management.cluster.bootstrap.contact-point-discovery.discovery-method=config",
        "-Dpekko.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr=2",
        "-Dpekko.management.cluster.bootstrap.contact-point-discovery.stable-margin=1s",
        "-Dpekko.management.http.bind-hostname=127.0.0.1"));
    for (int i = 0; i < management.length; i++) {
      discovery.add("-Dpekko.discovery.config.services.evoc-cluster.endpoints." + i + ".host=127.0.0.1");
      discovery.add("-Dpekko.discovery.config.services.evoc-cluster.endpoints." + i + ".port=" + management[i]);
    }
    try (LocalNode a = new LocalNode(dir.resolve("a"), List.of(),
        with(discovery, "-Dpekko.management.http.port=" + management[0]), java.util.Map.of());
        LocalNode b = new LocalNode(dir.resolve("b"), List.of("--roles", "evaluator"),
            with(discovery, "-Dpekko.management.http.port=" + management[1]), java.util.Map.of())) {
      a.start(TOKEN);
      b.start(TOKEN);
      a.awaitReady(Duration.ofMinutes(2));
      b.awaitReady(Duration.ofMinutes(2));
      Api api = new Api(a.httpPort, TOKEN);
      long deadline = System.nanoTime() + Duration.ofMinutes(1).toNanos();
      while (true) {
        Map<String, Object> cluster = api.get("/api/v1/cluster").json();
        List<?> members = (List<?>) cluster.get("members");
        List<?> evaluators = (List<?>) cluster.get("evaluators");
        if (members.size() == 2 && evaluators.size() == 2) {
          break;
        }
        assertThat(System.nanoTime()).as("one cluster of two nodes: %s", cluster).isLessThan(deadline);
        Thread.sleep(300);
      }
    }
  }

  private static List<String> with(List<String> base, String more) {
    List<String> out = new ArrayList<>(base);
    out.add(more);
    return out;
  }
}
