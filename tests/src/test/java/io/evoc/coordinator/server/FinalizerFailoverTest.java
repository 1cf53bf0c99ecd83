package io.evoc.coordinator.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.evoc.coordinator.client.ServerClient.Response;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Finalizers are actors of their own, on any node with the role. A coordinator node and two
 * evaluator nodes that are finalizers too: the node finalizing a job is killed with SIGKILL, the
 * coordinator (told once the survivors have downed it) hands the job to the other finalizer, and
 * the job ends with the command line's bytes.
 */
class FinalizerFailoverTest {
  private static final String TOKEN = "finalizer-token";
  private static final MlpJob JOB = new MlpJob(new String[][] {{"method", "de+weight-sharing"}, {"sparsity", "0.6"},
      {"seed", "4"}, {"calib-limit", "300"}, {"population", "24"}, {"generations", "2"}, {"step", "0.1"},
      {"repair", "none"}, {"swaps", "0"}, {"pareto-population", "16"}, {"pareto-generations", "8"}});

  @Test
  void anotherFinalizerTakesTheJobOfOneKilled(@TempDir Path dir) throws Exception {
    byte[] expected = JOB.commandLineArtifact(dir);
    // The survivors down the lost node after 5 s of stable membership (20 s by default).
    List<String> jvm = List.of("-Dpekko.cluster.split-brain-resolver.stable-after=5s");
    LocalNode a = new LocalNode(dir.resolve("a"), List.of("--roles", "coordinator,evaluator"), jvm, Map.of());
    String seed = "127.0.0.1:" + a.clusterPort;
    List<String> finalizer = List.of("--roles", "evaluator,finalizer", "--seed-nodes", seed);
    try (a;
        LocalNode b = new LocalNode(dir.resolve("b"), finalizer, jvm, Map.of());
        LocalNode c = new LocalNode(dir.resolve("c"), finalizer, jvm, Map.of())) {
      LocalNode.startCluster(TOKEN, Duration.ofMinutes(2), a, b, c);
      Api api = new Api(a.httpPort, TOKEN);
      api.awaitEvaluators(3, Duration.ofMinutes(2));

      Response submitted = api.submit(JOB.parts());
      assertThat(submitted.status()).as(submitted.text()).isEqualTo(202);
      String id = (String) submitted.json().get("id");
      String on = awaitFinalizer(api, id);
      LocalNode victim = on.endsWith(":" + b.clusterPort) ? b : c;
      LocalNode survivor = victim == b ? c : b;
      assertThat(on).isEqualTo(address(victim));
      victim.kill();

      Map<String, Object> job = api.awaitFinished(id, Duration.ofMinutes(6));
      assertThat(job.get("state")).as(job.toString()).isEqualTo("succeeded");
      assertThat(job.get("finalized_on")).isEqualTo(address(survivor));
      assertThat(api.get("/api/v1/jobs/" + id + "/artifact").body()).isEqualTo(expected);
    }
  }

  private static String address(LocalNode node) {
    return "pekko://evoc@127.0.0.1:" + node.clusterPort;
  }

  /** The node whose finalizer has the job, as soon as one has it. */
  private static String awaitFinalizer(Api api, String id) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    while (true) {
      Map<String, Object> job = api.get("/api/v1/jobs/" + id).json();
      // No state: an error answer (a 503 from a busy coordinator); asked again.
      if (job.containsKey("state")) {
        assertThat(job.get("state")).as("job %s before its finalizer is lost", id).isIn("queued", "running",
            "finalizing");
        if (job.get("finalizing_on") != null) {
          return (String) job.get("finalizing_on");
        }
      }
      assertThat(System.nanoTime()).as("job %s finalizing", id).isLessThan(deadline);
      Thread.sleep(50);
    }
  }
}
