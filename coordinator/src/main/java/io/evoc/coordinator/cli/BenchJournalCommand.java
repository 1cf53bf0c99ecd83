package io.evoc.coordinator.cli;

import io.evoc.coordinator.client.ServerClient;
import io.evoc.coordinator.search.Ranges;
import io.evoc.coordinator.server.EvocServer;
import io.evoc.coordinator.server.jobs.SyntheticJournal;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.jdbc.testkit.javadsl.SchemaUtils;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * How long a coordinator node takes to come back with a long job history: a journal of finished
 * jobs written once, then the node started on it (coordinator role only), timed until its job book
 * answers, replaying the whole journal and then from the snapshot after its last event.
 */
@Command(name = "journal", mixinStandardHelpOptions = true,
    description = "Times a coordinator's restart on a journal of many finished jobs: the whole journal replayed, "
        + "and from a snapshot; ends with one JSON line.")
final class BenchJournalCommand implements Callable<Integer> {
  @Option(names = "--jobs", defaultValue = "200", paramLabel = "N", description = "Finished jobs (default ${DEFAULT-VALUE}).")
  int jobs;

  @Option(names = "--cycles", defaultValue = "60", paramLabel = "C", description = "Commits per job (default ${DEFAULT-VALUE}).")
  int cycles;

  @Option(names = "--generations", defaultValue = "10", paramLabel = "G",
      description = "Generations per commit (default ${DEFAULT-VALUE}).")
  int generations;

  @Option(names = "--rounds", defaultValue = "3", paramLabel = "R", description = "Restarts timed each way (default ${DEFAULT-VALUE}).")
  int rounds;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Ranges.check("--jobs", jobs, 1, 100_000);
    Ranges.check("--cycles", cycles, 1, 10_000);
    Ranges.check("--generations", generations, 0, 1_000);
    Ranges.check("--rounds", rounds, 1, 100);
    PrintWriter err = spec.commandLine().getErr();
    Path data = Files.createTempDirectory("evoc-bench-journal");
    try {
      Map<String, Object> node = new LinkedHashMap<>(Map.of("evoc.data-dir", data.toString(), "evoc.http.port", 0,
          "pekko.remote.artery.canonical.port", 0, "evoc.token", "bench", "evoc.roles", List.of("coordinator"),
          "pekko.loglevel", "WARNING"));
      long started = System.nanoTime();
      ActorSystem<Void> writer = ActorSystem.create(Behaviors.empty(), "evoc", EvocServer.config(node));
      long events;
      try {
        SchemaUtils.createIfNotExists(writer).toCompletableFuture().join();
        events = SyntheticJournal.write(writer, jobs, cycles, generations, 100);
      } finally {
        writer.terminate();
        writer.getWhenTerminated().toCompletableFuture().join();
      }
      long journalBytes = sizeOf(data);
      err.printf("journal: %d jobs, %d events, %.1f MB on disk, written in %.1f s%n", jobs, events, journalBytes / 1e6,
          (System.nanoTime() - started) / 1e9);
      err.flush();
      restart(node, 0, jobs); // warm-up: class loading and the JIT, not the journal
      double[] replay = new double[rounds];
      double[] snapshot = new double[rounds];
      for (int r = 0; r < rounds; r++) { // alternating which goes first
        if (r % 2 == 0) {
          replay[r] = restart(node, 0, jobs);
          snapshot[r] = restart(node, 1_000_000, jobs);
        } else {
          snapshot[r] = restart(node, 1_000_000, jobs);
          replay[r] = restart(node, 0, jobs);
        }
        err.printf("round %d: the whole journal replayed %.2f s, from the snapshot %.2f s%n", r + 1, replay[r],
            snapshot[r]);
        err.flush();
      }
      Map<String, Object> line = new LinkedHashMap<>();
      line.put("jobs", jobs);
      line.put("events", events);
      line.put("journal_mb", Math.round(journalBytes / 1e5) / 10.0);
      line.put("replay_s", Json.hundredths(Medians.of(replay)));
      line.put("snapshot_s", Json.hundredths(Medians.of(snapshot)));
      spec.commandLine().getOut().println(Json.line(line));
      spec.commandLine().getOut().flush();
      return 0;
    } finally {
      io.evoc.coordinator.server.jobs.JobRunner.deleteTree(data);
    }
  }

  /** Seconds from starting a node on the journal to its job book listing every job. */
  private static double restart(Map<String, Object> node, int snapshotEvery, int jobs) throws Exception {
    Map<String, Object> config = new LinkedHashMap<>(node);
    config.put("evoc.journal.snapshot-every", snapshotEvery);
    long start = System.nanoTime();
    try (EvocServer server = EvocServer.start(config, new PrintWriter(new StringWriter()))) {
      ServerClient client = new ServerClient("http://127.0.0.1:" + server.port(), "bench");
      while (true) {
        ServerClient.Response r = client.get("/ready");
        if (r.status() == 200 && ((Number) r.json().get("jobs")).intValue() == jobs) {
          return (System.nanoTime() - start) / 1e9;
        }
        Thread.sleep(20);
      }
    }
  }

  private static long sizeOf(Path dir) throws java.io.IOException {
    try (var files = Files.walk(dir)) {
      return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
    }
  }
}
