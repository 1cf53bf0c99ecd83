package io.evoc.coordinator.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.evoc.coordinator.client.ServerClient.Response;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator is a cluster singleton. Two nodes with the coordinator role share a PostgreSQL
 * journal and a blob directory; a third only evaluates. The active coordinator is killed with
 * SIGKILL mid-job: the other takes over, resumes the job from the checkpoint PostgreSQL and the
 * shared store kept, and ends with the command line's bytes. Back again, the first node is the
 * standby and serves the job API by forwarding it. The job book is snapshotted every other event,
 * so the taking over starts from a snapshot in PostgreSQL.
 */
class CoordinatorFailoverTest {
  private static final String TOKEN = "failover-token";
  private static final MlpJob JOB = new MlpJob(new String[][] {{"method", "de"}, {"sparsity", "0.6"}, {"seed", "3"},
      {"calib-limit", "300"}, {"population", "24"}, {"generations", "2"}, {"step", "0.1"}, {"repair", "none"},
      {"swaps", "0"}});

  @Test
  void anotherCoordinatorNodeResumesTheJobOfOneKilled(@TempDir Path dir) throws Exception {
    byte[] expected = JOB.commandLineArtifact(dir);
    try (PostgresServer postgres = new PostgresServer()) {
      // The survivors down the lost node after 5 s of stable membership (20 s by default).
      List<String> jvm = new ArrayList<>(postgres.journalSettings());
      jvm.add("-Dpekko.cluster.split-brain-resolver.stable-after=5s");
      // A snapshot every other event: the standby rebuilds the job book from one in PostgreSQL.
      jvm.add("-Devoc.journal.snapshot-every=2");
      List<String> shared = List.of("--blobs-dir", dir.resolve("shared-blobs").toString());
      LocalNode a = new LocalNode(dir.resolve("a"), shared, jvm, Map.of());
      String seed = "127.0.0.1:" + a.clusterPort;
      List<String> bArgs = new ArrayList<>(shared);
      bArgs.addAll(List.of("--seed-nodes", seed));
      try (a;
          LocalNode b = new LocalNode(dir.resolve("b"), bArgs, jvm, Map.of());
          LocalNode c = new LocalNode(dir.resolve("c"), List.of("--roles", "evaluator", "--seed-nodes", seed), jvm,
              Map.of())) {
        LocalNode.startCluster(TOKEN, Duration.ofMinutes(2), a, b, c);
        Api viaA = new Api(a.httpPort, TOKEN);
        Api viaB = new Api(b.httpPort, TOKEN);
        viaA.awaitEvaluators(3, Duration.ofMinutes(2));
        // The oldest coordinator node coordinates; the other, a standby, forwards the job API to it.
        assertThat(viaB.get("/ready").json().get("coordinator")).isEqualTo("http://127.0.0.1:" + a.httpPort);

        Response submitted = viaB.submit(JOB.parts());
        assertThat(submitted.status()).as(submitted.text()).isEqualTo(202);
        String id = (String) submitted.json().get("id");
        int committed = viaA.awaitCheckpoint(id, 3);
        a.kill();

        Map<String, Object> job = viaB.awaitFinished(id, Duration.ofMinutes(6));
        assertThat(job.get("state")).as(job.toString()).isEqualTo("succeeded");
        assertThat(job.get("attempt")).isEqualTo(2);
        assertThat(((Number) job.get("resumed_cycle")).intValue()).isGreaterThanOrEqualTo(committed);
        assertThat(viaB.get("/api/v1/jobs/" + id + "/artifact").body()).isEqualTo(expected);
        // b coordinates now: its readiness is its own job book's.
        assertThat(viaB.get("/ready").json()).containsEntry("jobs", 1).doesNotContainKey("coordinator");

        // The killed node comes back (joining b, the seed it has left) as the standby: its API is b's.
        List<String> again = new ArrayList<>(shared);
        again.addAll(List.of("--seed-nodes", "127.0.0.1:" + b.clusterPort));
        try (LocalNode back = new LocalNode(dir.resolve("a"), again, jvm, Map.of())) {
          back.start(TOKEN).awaitReady(Duration.ofMinutes(2));
          Api viaBack = new Api(back.httpPort, TOKEN);
          assertThat(viaBack.get("/ready").json().get("coordinator")).isEqualTo("http://127.0.0.1:" + b.httpPort);
          assertThat(viaBack.get("/api/v1/jobs/" + id + "/artifact").body()).isEqualTo(expected);
        }

        // The history is PostgreSQL's, not an H2 file's.
        assertThat(dir.resolve("a/journal.mv.db")).doesNotExist();
        assertThat(dir.resolve("b/journal.mv.db")).doesNotExist();
        try (Connection conn = DriverManager.getConnection(postgres.url("evoc"), "evoc", "");
            ResultSet r = conn.createStatement().executeQuery("SELECT count(*) FROM event_journal");
            ResultSet s = conn.createStatement().executeQuery("SELECT count(*) FROM snapshot")) {
          r.next();
          assertThat(r.getLong(1)).isGreaterThan(committed);
          s.next();
          assertThat(s.getLong(1)).as("the job book's snapshots").isPositive();
        }
      }
    }
  }
}
