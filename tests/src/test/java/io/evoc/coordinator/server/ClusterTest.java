package io.evoc.coordinator.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.evoc.coordinator.client.ServerClient.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real cluster: three `evoc serve` JVMs on loopback (a coordinator with an evaluator, an
 * evaluator with the finalizer, an evaluator). A job scored by all three, with one evaluator node
 * killed mid-job, and the coordinator then killed and restarted, resumes from its last committed
 * cycle, is finalized on another node (inputs and checkpoint fetched from the coordinator, outputs
 * fetched back), and still ends with the command line's bytes. The evaluators' libtorch runs at
 * three thread counts (the command line's at this machine's default), as on hosts with other core
 * counts: pinned arithmetic ({@link io.evoc.evaluator.engine.Numerics}) keeps their scores the same
 * (this job is too small to show the difference; LibtorchThreadsTest shows it).
 */
class ClusterTest {
  private static final String TOKEN = "cluster-token";
  /**
   * Populations of 48 in units of 2 to 8 or so: every evaluator gets work every generation. Then weight
   * sharing, whose points the evaluators score too. (With the bit search the bytes also match,
   * except under heavy CPU load, where the coordinator's curvature-weighted Lloyd-Max has twice put
   * one weight of 235,200 on a neighbouring level: open; README, "Server".)
   */
  private static final MlpJob JOB = new MlpJob(new String[][] {{"method", "de+weight-sharing"}, {"sparsity", "0.7"},
      {"seed", "5"}, {"calib-limit", "400"}, {"population", "48"}, {"generations", "2"}, {"step", "0.1"},
      {"repair", "none"}, {"swaps", "4"}, {"pareto-population", "8"}, {"pareto-generations", "2"}});

  @Test
  void aJobSurvivesLosingAnEvaluatorAndTheCoordinator(@TempDir Path dir) throws Exception {
    byte[] expected = JOB.commandLineArtifact(dir);

    // Not at the top of LocalNode's range, so that b can be above it.
    LocalNode coordinator = where(n -> n.clusterPort < 30000, () -> new LocalNode(dir.resolve("a"),
        List.of("--roles", "coordinator,evaluator")));
    String seed = "127.0.0.1:" + coordinator.clusterPort;
    try (coordinator;
        LocalNode b = where(n -> n.clusterPort > coordinator.clusterPort, () -> new LocalNode(dir.resolve("b"),
            List.of("--roles", "evaluator,finalizer", "--seed-nodes", seed), LocalNode.threadLimit(4),
            LocalNode.threadLimitEnv(4)));
        LocalNode c = new LocalNode(dir.resolve("c"), List.of("--roles", "evaluator", "--seed-nodes", seed),
            LocalNode.threadLimit(1), LocalNode.threadLimitEnv(1))) {
      LocalNode.startCluster(TOKEN, Duration.ofMinutes(2), coordinator, b, c);
      Api api = new Api(coordinator.httpPort, TOKEN);
      api.awaitEvaluators(3, Duration.ofMinutes(2));

      Response submitted = api.submit(JOB.parts());
      assertThat(submitted.status()).as(submitted.text()).isEqualTo(202);
      String id = (String) submitted.json().get("id");
      awaitCycle(api, id, 3);
      c.kill();
      awaitCycle(api, id, 6);
      // Every evaluator took part before one was lost.
      @SuppressWarnings("unchecked")
      List<Map<String, Object>> evaluators = (List<Map<String, Object>>) api.get("/api/v1/cluster").json()
          .get("evaluators");
      assertThat(evaluators).filteredOn(e -> ((Number) e.get("candidates_scored")).longValue() > 0).hasSize(2);
      assertThat(evaluators).extracting(e -> e.get("numerics")).containsOnly(
          io.evoc.evaluator.engine.Numerics.describe(io.evoc.evaluator.engine.Numerics.PINNED));

      int committed = api.awaitCheckpoint(id, 6);
      coordinator.kill();
      coordinator.start(TOKEN).awaitReady(Duration.ofMinutes(2));
      Map<String, Object> job = api.awaitFinished(id, Duration.ofMinutes(8));
      assertThat(job.get("state")).as(job.toString()).isEqualTo("succeeded");
      assertThat(job.get("attempt")).isEqualTo(2);
      // It went on from its last committed cycle, not from the start.
      assertThat(((Number) job.get("resumed_cycle")).intValue()).isGreaterThanOrEqualTo(committed);
      byte[] artifact = api.get("/api/v1/jobs/" + id + "/artifact").body();
      if (!java.util.Arrays.equals(artifact, expected)) {
        // Kept for whoever looks into it: the two reports say where the runs parted.
        Path keep = Path.of("target", "cluster-mismatch");
        Files.createDirectories(keep);
        Files.write(keep.resolve("server.json"), api.get("/api/v1/jobs/" + id + "/report").body());
        Files.write(keep.resolve("server.evoc"), artifact);
        Files.write(keep.resolve("cli.evoc"), expected);
        Files.copy(dir.resolve("cli.json"), keep.resolve("cli.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        for (String n : new String[] {"a", "b", "c"}) {
          Path log = dir.resolve(n).resolve("node.log");
          if (Files.exists(log)) {
            Files.copy(log, keep.resolve(n + ".log"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
          }
        }
      }
      assertThat(artifact).as("the cluster's artifact against the command line's").isEqualTo(expected);
      assertThat(job.get("finalized_on")).isEqualTo("pekko://evoc@127.0.0.1:" + b.clusterPort);
      // The coordinator fetched the outputs into its store, and the finalizer let its copies go.
      Path onFinalizer = b.dataDir.resolve("blobs").resolve((String) job.get("artifact_sha256"));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (Files.exists(onFinalizer) && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertThat(onFinalizer).doesNotExist();
      assertThat(coordinator.dataDir.resolve("blobs").resolve((String) job.get("artifact_sha256"))).exists();

      // The surviving evaluator node, downed when it lost the coordinator, has rejoined on its own;
      // it serves the job API too, forwarding to the coordinator.
      api.awaitEvaluators(2, Duration.ofMinutes(2));
      Api viaEvaluator = new Api(b.httpPort, TOKEN);
      Response shown = viaEvaluator.get("/api/v1/jobs/" + id);
      assertThat(shown.json().get("artifact_sha256")).as(shown.text()).isEqualTo(job.get("artifact_sha256"));
      assertThat(viaEvaluator.get("/api/v1/jobs/" + id + "/artifact").body()).isEqualTo(expected);
      assertThat(viaEvaluator.get("/api/v1/jobs/nope").status()).isEqualTo(404);
      assertThat(viaEvaluator.eventsHandshake("nope", TOKEN)).as("an unknown job's feed, relayed").isEqualTo(404);
      assertThat(viaEvaluator.getWithToken("/api/v1/jobs/" + id, "wrong").status()).isEqualTo(401);
      // The cluster view is the coordinator's too: its work queue knows the evaluators.
      List<?> seenViaEvaluator = (List<?>) viaEvaluator.get("/api/v1/cluster").json().get("evaluators");
      assertThat(seenViaEvaluator).hasSizeGreaterThanOrEqualTo(2);
      List<Map<String, Object>> feed = api.events(id, TOKEN).get(1, java.util.concurrent.TimeUnit.MINUTES);
      assertThat(viaEvaluator.events(id, TOKEN).get(1, java.util.concurrent.TimeUnit.MINUTES)).isEqualTo(feed);
      assertThat(feed).extracting(m -> m.get("type")).contains("commit", "succeeded");
    }
  }

  /**
   * The first node made that passes {@code test}. b goes on a higher port than the coordinator's
   * node: when that node dies, b either faces it and c (c not yet downed: b is the minority and
   * downs itself) or faces it alone (c downed when the cycles between the two kills outlast the
   * split-brain resolver's 20 s), a tie that keep-majority gives to the lower address. Either way b
   * must down itself and rejoin the coordinator's node as it comes back: on a lower port, b kept
   * itself and stayed a cluster of its own, with the job's only finalizer.
   */
  private static LocalNode where(java.util.function.Predicate<LocalNode> test,
      java.util.concurrent.Callable<LocalNode> make) throws Exception {
    while (true) {
      LocalNode node = make.call();
      if (test.test(node)) {
        return node;
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static void awaitCycle(Api api, String id, int cycle) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
    while (true) {
      Map<String, Object> job = api.get("/api/v1/jobs/" + id).json();
      Map<String, Object> progress = (Map<String, Object>) job.get("progress");
      // No state: an error answer (a 503 from a busy coordinator), not the job's end.
      if (job.containsKey("state") && (progress != null && ((Number) progress.get("cycle")).intValue() >= cycle
          || !"running".equals(job.get("state")))) {
        return;
      }
      assertThat(System.nanoTime()).as("job %s at cycle %d", id, cycle).isLessThan(deadline);
      Thread.sleep(200);
    }
  }
}
