package io.evoc.coordinator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The restart benchmark writes its journal, restarts both ways and reports; the times are never asserted. */
class BenchJournalCommandTest {
  @Test
  void restartsOnAJournalBothWays() {
    Cli r = Cli.run("bench", "journal", "--jobs", "3", "--cycles", "2", "--generations", "1", "--rounds", "1");
    assertThat(r.exitCode()).as(r.err()).isZero();
    Map<String, Object> m = r.json();
    // Each job: submitted, started, two phases, its end, and a checkpoint per cycle.
    assertThat(m).containsEntry("jobs", 3).containsEntry("events", 21);
    assertThat(((Number) m.get("replay_s")).doubleValue()).isPositive();
    assertThat(((Number) m.get("snapshot_s")).doubleValue()).isPositive();
    assertThat(r.err()).contains("the whole journal replayed", "from the snapshot");
  }
}
