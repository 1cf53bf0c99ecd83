package io.evoc.coordinator.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.evoc.coordinator.client.ServerClient.Response;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job journal in PostgreSQL instead of the embedded H2: a node killed with SIGKILL mid-job
 * and started again resumes the job from the checkpoint PostgreSQL kept, and the artifact is the
 * command line's.
 */
class PostgresJournalTest {
  private static final String TOKEN = "postgres-token";
  private static final MlpJob JOB = new MlpJob(new String[][] {{"method", "de"}, {"sparsity", "0.6"}, {"seed", "3"},
      {"calib-limit", "300"}, {"population", "24"}, {"generations", "2"}, {"step", "0.1"}, {"repair", "none"},
      {"swaps", "0"}});

  @Test
  void aKilledNodeResumesItsJobFromPostgres(@TempDir Path dir) throws Exception {
    byte[] expected = JOB.commandLineArtifact(dir);
    try (PostgresServer postgres = new PostgresServer();
        LocalNode node = new LocalNode(dir.resolve("node"), List.of(), postgres.journalSettings(), Map.of())) {
      node.start(TOKEN).awaitReady(Duration.ofMinutes(2));
      Api api = new Api(node.httpPort, TOKEN);
      Response submitted = api.submit(JOB.parts());
      assertThat(submitted.status()).as(submitted.text()).isEqualTo(202);
      String id = (String) submitted.json().get("id");
      int committed = api.awaitCheckpoint(id, 3);
      node.kill();
      node.start(TOKEN).awaitReady(Duration.ofMinutes(2));
      Map<String, Object> job = api.awaitFinished(id, Duration.ofMinutes(5));
      assertThat(job.get("state")).as(job.toString()).isEqualTo("succeeded");
      assertThat(job.get("attempt")).isEqualTo(2);
      assertThat(((Number) job.get("resumed_cycle")).intValue()).isGreaterThanOrEqualTo(committed);
      assertThat(api.get("/api/v1/jobs/" + id + "/artifact").body()).isEqualTo(expected);
      // The history is PostgreSQL's, not an H2 file's.
      assertThat(dir.resolve("node/journal.mv.db")).doesNotExist();
      try (Connection c = DriverManager.getConnection(postgres.url("evoc"), "evoc", "");
          ResultSet r = c.createStatement().executeQuery("SELECT count(*) FROM event_journal")) {
        r.next();
        assertThat(r.getLong(1)).isGreaterThan(committed);
      }
      assertThat(Files.exists(dir.resolve("node"))).isTrue();
    }
  }
}
