package io.evoc.coordinator.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.evoc.coordinator.cli.CliAccess;
import io.evoc.coordinator.client.ServerClient.Response;
import io.evoc.evaluator.cluster.BlobRoute;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The server on loopback: a real actor system, the embedded journal, real HTTP. A job's artifact is
 * the command line's, byte for byte; bad uploads are 4xx; the job book survives a restart.
 */
class ServerTest {
  private static final String TOKEN = "test-token";
  private static final Path ROOT = Path.of(System.getProperty("evoc.repo.root", ".."));
  private static final Path MLP = ROOT.resolve("examples/models/fashion-mlp.onnx");
  private static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");
  /** Small and fast: a few hundred calibration samples, two generations, two epochs of distillation. */
  private static final MlpJob JOB = new MlpJob(new String[][] {{"method", "de+bits"}, {"sparsity", "0.6"},
      {"seed", "3"}, {"calib-limit", "300"}, {"population", "8"}, {"generations", "2"}, {"step", "0.2"},
      {"pareto-population", "8"}, {"pareto-generations", "2"}, {"repair", "distill"}, {"distill-epochs", "2"},
      {"swaps", "4"}});
  private static final String SETTINGS = JOB.json();

  private static EvocServer start(Path dataDir) throws IOException {
    return start(dataDir, Map.of());
  }

  private static EvocServer start(Path dataDir, Map<String, Object> more) throws IOException {
    Map<String, Object> config = new java.util.HashMap<>(Map.of("evoc.data-dir", dataDir.toString(), "evoc.http.port", 0,
        "pekko.remote.artery.canonical.port", 0, "evoc.token", TOKEN));
    config.putAll(more);
    return EvocServer.start(config, new PrintWriter(new StringWriter()));
  }

  @Test
  void aJobGivesTheCommandLinesBytesAndOutlivesARestart(@TempDir Path dir) throws Exception {
    byte[] artifact;
    List<Map<String, Object>> feed;
    Object layerSparsity;
    Object lastGeneration;
    // One finished job's feed keeps its generations: the latest.
    Map<String, Object> oneFullFeed = Map.of("evoc.limits.full-feeds", 1);
    try (EvocServer server = start(dir.resolve("data"), oneFullFeed)) {
      Api api = new Api(server.port(), TOKEN);
      Response submitted = api.submit(JOB.parts());
      assertThat(submitted.status()).as(submitted.text()).isEqualTo(202);
      String id = (String) submitted.json().get("id");
      var early = api.events(id, TOKEN);
      Map<String, Object> job = api.awaitFinished(id, Duration.ofMinutes(5));
      assertThat(job.get("state")).as(job.toString()).isEqualTo("succeeded");
      assertThat(job).containsKeys("progress", "layer_sparsity", "last_generation");
      @SuppressWarnings("unchecked")
      Map<String, Object> layers = (Map<String, Object>) job.get("layer_sparsity");
      assertThat(layers).isNotEmpty().allSatisfy((layer, f) -> assertThat(((Number) f).doubleValue()).isBetween(0.0, 1.0));
      assertThat(((Map<?, ?>) job.get("last_generation")).keySet()).asString().contains("cycle", "generation", "best_divergence");
      layerSparsity = job.get("layer_sparsity");
      lastGeneration = job.get("last_generation");
      // A client that connected at once and one that connects after the end see the same feed.
      feed = early.get(1, java.util.concurrent.TimeUnit.MINUTES);
      assertThat(api.events(id, TOKEN).get(1, java.util.concurrent.TimeUnit.MINUTES)).isEqualTo(feed);
      for (int i = 0; i < feed.size(); i++) {
        assertThat(feed.get(i).get("seq")).isEqualTo(i);
      }
      List<Object> types = feed.stream().map(m -> m.get("type")).toList();
      assertThat(types.get(0)).isEqualTo("submitted");
      assertThat(types.get(types.size() - 1)).isEqualTo("succeeded");
      assertThat(types).contains("started", "phase", "generation", "commit");
      List<Map<String, Object>> generations = feed.stream().filter(m -> m.get("type").equals("generation")).toList();
      // Two generations a cycle, in order.
      for (int i = 0; i < generations.size(); i++) {
        assertThat(generations.get(i).get("generation")).isEqualTo(i % 2);
      }
      assertThat(api.events(id, null).get(1, java.util.concurrent.TimeUnit.MINUTES)).as("no token, no feed").isNull();
      assertThat(api.eventsHandshake(id, null)).as("no token").isEqualTo(401);
      assertThat(api.eventsHandshake(id, "wrong")).as("a wrong token").isEqualTo(401);
      String metrics = api.get("/metrics").text();
      assertThat(metrics).contains("evoc_candidates_scored_total", "evoc_scoring_latency_seconds_bucket",
          "evoc_jobs{state=\"succeeded\"} 1.0", "jvm_memory_used_bytes");
      assertThat(promtool(metrics, dir)).as("promtool check metrics").isEmpty();
      artifact = api.get("/api/v1/jobs/" + id + "/artifact").body();
      assertThat(api.get("/api/v1/jobs/" + id + "/model.onnx").status()).isEqualTo(200);
      Map<String, Object> report = api.get("/api/v1/jobs/" + id + "/report").json();
      assertThat(report).containsKeys("front", "chosen", "bytes");
      // The evaluator scored the search's candidates (the coordinator's queue) and the finalizer's
      // points (its own queue; each front point at least).
      @SuppressWarnings("unchecked")
      long searched = ((Number) ((Map<String, Object>) report.get("sparsify")).get("candidates_scored")).longValue();
      @SuppressWarnings("unchecked")
      List<Map<String, Object>> evaluators = (List<Map<String, Object>>) api.get("/api/v1/cluster").json()
          .get("evaluators");
      assertThat(evaluators).hasSize(1);
      assertThat(evaluators.get(0)).containsKeys("candidates_per_second", "recent_candidates_per_second");
      assertThat(((Number) evaluators.get(0).get("candidates_scored")).longValue()).isGreaterThanOrEqualTo(searched);
      assertThat(metric(metrics, "evoc_work_scored_total", "queue=\"finalizer\""))
          .isGreaterThanOrEqualTo(((List<?>) report.get("front")).size());
      // Per evaluator, named by its node's address and index, not its reference's uid.
      assertThat(metric(metrics, "evoc_work_scored_total", "queue=\"coordinator\"")).isGreaterThanOrEqualTo(searched);
      assertThat(metrics).containsPattern("evoc_work_scored_total\\{device=\"cpu\",evaluator=\"127\\.0\\.0\\.1:\\d+/0\",");
      assertThat((List<?>) api.get("/api/v1/jobs").json().get("jobs")).hasSize(1);
      // What the job published for the evaluators (scoring batch, students) and its checkpoints are
      // gone; its inputs (model, images, labels) and outputs (artifact, report, model.onnx) stay.
      try (var blobs = Files.list(dir.resolve("data/blobs"));
          var scratch = Files.list(dir.resolve("data/scratch"));
          var marks = Files.list(dir.resolve("data/transient"))) {
        assertThat(blobs.toList()).hasSize(6);
        assertThat(scratch.toList()).isEmpty();
        assertThat(marks.toList()).as("no checkpoint left").isEmpty();
      }

      // `evoc submit --follow`: the same job again, followed live, its artifact downloaded.
      assertThat(CliAccess.run(followed(server, dir.resolve("submitted.evoc")))).isZero();
      assertThat(Files.readAllBytes(dir.resolve("submitted.evoc"))).isEqualTo(artifact);
      jobsOnTheCommandLine(server, id, artifact, dir);
      // With the second job finished, the first one's feed is what it was but its generations, each
      // entry numbered as before; the second's is whole.
      assertThat(api.events(id, TOKEN).get(1, java.util.concurrent.TimeUnit.MINUTES)).isEqualTo(withoutGenerations(feed));
      assertThat(api.events("j2", TOKEN).get(1, java.util.concurrent.TimeUnit.MINUTES))
          .anySatisfy(m -> assertThat(m.get("type")).isEqualTo("generation"));
    }
    // The same job on the command line.
    assertThat(artifact).isEqualTo(JOB.commandLineArtifact(dir));

    try (EvocServer again = start(dir.resolve("data"), oneFullFeed)) {
      Api api = new Api(again.port(), TOKEN);
      assertThat(api.get("/ready").status()).isEqualTo(200);
      Map<String, Object> replayed = api.get("/api/v1/jobs/j1").json();
      assertThat(replayed.get("state")).isEqualTo("succeeded");
      assertThat(replayed.get("layer_sparsity")).isEqualTo(layerSparsity);
      assertThat(replayed.get("last_generation")).isEqualTo(lastGeneration);
      assertThat(api.get("/api/v1/jobs/j1/artifact").body()).isEqualTo(artifact);
      // The feed replayed from the journal, as it was before the restart.
      assertThat(api.events("j1", TOKEN).get(1, java.util.concurrent.TimeUnit.MINUTES)).isEqualTo(withoutGenerations(feed));
    }
    // Every generation too, as it was streamed live, where the node keeps more whole feeds.
    try (EvocServer again = start(dir.resolve("data"))) {
      Api api = new Api(again.port(), TOKEN);
      assertThat(api.events("j1", TOKEN).get(1, java.util.concurrent.TimeUnit.MINUTES)).isEqualTo(feed);
    }
  }

  /**
   * With a snapshot after every event, a restart rebuilds the job book from the latest snapshot
   * alone: the same jobs and views, the same feeds (each entry numbered as it was, the generations
   * the book let go of still gone), the same metrics, and the next job's id. A checkpoint a stopped
   * node left unnamed is deleted when it comes back. With snapshots off, the whole journal is
   * replayed again, and the generations come back.
   */
  @Test
  void theJobBookComesBackFromItsSnapshots(@TempDir Path dir) throws Exception {
    MlpJob small = new MlpJob(new String[][] {{"method", "de+bits"}, {"sparsity", "0.5"}, {"seed", "5"},
        {"calib-limit", "200"}, {"population", "8"}, {"generations", "2"}, {"step", "0.25"}, {"repair", "none"},
        {"swaps", "0"}, {"pareto-population", "8"}, {"pareto-generations", "2"}});
    Map<String, Object> config = Map.of("evoc.limits.full-feeds", 1, "evoc.journal.snapshot-every", 1);
    Path data = dir.resolve("data");
    Object jobs;
    Map<String, List<Map<String, Object>>> feeds = new java.util.TreeMap<>();
    List<Map<String, Object>> firstWhole = null;
    try (EvocServer server = start(data, config)) {
      Api api = new Api(server.port(), TOKEN);
      for (String id : List.of("j1", "j2")) {
        Response submitted = api.submit(small.parts());
        assertThat(submitted.status()).as(submitted.text()).isEqualTo(202);
        assertThat(submitted.json().get("id")).isEqualTo(id);
        assertThat(api.awaitFinished(id, Duration.ofMinutes(5)).get("state")).isEqualTo("succeeded");
        if (firstWhole == null) {
          firstWhole = api.events(id, TOKEN).get(1, java.util.concurrent.TimeUnit.MINUTES);
        }
      }
      jobs = api.get("/api/v1/jobs").json().get("jobs");
      for (String id : List.of("j1", "j2")) {
        feeds.put(id, api.events(id, TOKEN).get(1, java.util.concurrent.TimeUnit.MINUTES));
      }
    }
    assertThat(feeds.get("j1")).isEqualTo(withoutGenerations(firstWhole));
    assertThat(feeds.get("j2")).anyMatch(m -> m.get("type").equals("generation"));
    assertThat(sequenceNumber(data, "snapshot")).as("the latest snapshot is after the last event")
        .isEqualTo(sequenceNumber(data, "event_journal")).isGreaterThan(10);
    // As a search leaves the store when its node stops between keeping a checkpoint and the job
    // book persisting the event that names it: the checkpoint, marked transient. And a mark on a
    // blob a job does name (here the model).
    BlobStore store = new BlobStore(data.resolve("blobs"));
    io.evoc.protocol.jobs.Blob orphan = store.putTransient("a checkpoint no event names".getBytes(), "j9-checkpoint");
    io.evoc.protocol.jobs.Blob model = store.putTransient(Files.readAllBytes(MLP), "model.onnx");
    try (EvocServer again = start(data, config)) {
      Api api = new Api(again.port(), TOKEN);
      assertThat(api.get("/api/v1/jobs").json().get("jobs")).isEqualTo(jobs);
      // The book answers once it has recovered, and it sweeps the store as it does.
      assertThat(store.find(orphan.getSha256())).as("the orphan is deleted").isNull();
      assertThat(store.find(model.getSha256())).as("a blob a job names is kept").isNotNull();
      try (var marks = Files.list(data.resolve("transient"))) {
        assertThat(marks.map(m -> m.getFileName().toString())).containsExactly(model.getSha256());
      }
      for (String id : feeds.keySet()) {
        assertThat(api.events(id, TOKEN).get(1, java.util.concurrent.TimeUnit.MINUTES)).as(id).isEqualTo(feeds.get(id));
      }
      assertThat(api.get("/metrics").text()).contains("evoc_jobs{state=\"succeeded\"} 2.0");
      Response next = api.submit(small.parts());
      assertThat(next.json().get("id")).isEqualTo("j3");
      assertThat(api.delete("/api/v1/jobs/j3").status()).isEqualTo(202);
      assertThat(api.awaitFinished("j3", Duration.ofMinutes(2)).get("state")).isEqualTo("cancelled");
    }
    try (EvocServer whole = start(data, Map.of("evoc.journal.snapshot-every", 0))) {
      Api api = new Api(whole.port(), TOKEN);
      assertThat(api.events("j1", TOKEN).get(1, java.util.concurrent.TimeUnit.MINUTES)).isEqualTo(firstWhole);
    }
    // Keeping one finished job: the two earliest finished are forgotten when the book recovers, with
    // their outputs and work directories; the inputs stay, as the job kept (j3) names them.
    assertThat(data.resolve("jobs/j1")).isDirectory();
    assertThat(data.resolve("finalize/j1/log.txt")).as("the finalization's log stays").isRegularFile();
    assertThat(data.resolve("finalize/j1/artifact.evoc")).as("its outputs are in the store").doesNotExist();
    try (var files = Files.list(data.resolve("blobs"))) {
      assertThat(files.count()).as("inputs and outputs").isGreaterThan(3);
    }
    try (EvocServer one = start(data, Map.of("evoc.limits.kept-jobs", 1, "evoc.limits.queued-jobs", 1))) {
      Api api = new Api(one.port(), TOKEN);
      long until = System.nanoTime() + Duration.ofMinutes(1).toNanos();
      List<?> listed;
      while ((listed = (List<?>) api.get("/api/v1/jobs").json().get("jobs")).size() > 1 && System.nanoTime() < until) {
        Thread.sleep(100);
      }
      assertThat(listed).singleElement().satisfies(j -> assertThat(((Map<?, ?>) j).get("id")).isEqualTo("j3"));
      assertThat(api.get("/api/v1/jobs/j1").status()).isEqualTo(410);
      assertThat(api.get("/api/v1/jobs/j2/artifact").json().get("error")).asString().contains("forgotten",
          "evoc.limits.kept-jobs");
      assertThat(api.get("/api/v1/jobs/j9").status()).as("never given").isEqualTo(404);
      assertThat(api.get("/metrics").text()).contains("evoc_jobs{state=\"cancelled\"} 1.0")
          .doesNotContain("evoc_jobs{state=\"succeeded\"} 2.0");
      try (var files = Files.list(data.resolve("blobs"))) {
        assertThat(files.map(f -> f.getFileName().toString())).containsExactlyInAnyOrder(BlobRoute.sha256(MLP),
            BlobRoute.sha256(FASHION.resolve("train-images-idx3-ubyte.gz")),
            BlobRoute.sha256(FASHION.resolve("train-labels-idx1-ubyte.gz")));
      }
      assertThat(data.resolve("jobs/j1")).doesNotExist();
      assertThat(data.resolve("jobs/j2")).doesNotExist();
      assertThat(data.resolve("finalize/j1")).doesNotExist();
      Response next = api.submit(small.parts());
      assertThat(next.json().get("id")).as("a forgotten job's number is not given again").isEqualTo("j4");
      // One job waiting or running at most: another is refused, and what it uploaded does not stay.
      Path images = FASHION.resolve("t10k-images-idx3-ubyte.gz");
      Response refused = api.submit(Api.parts("model", MLP, "calib", images, "settings", "{\"sparsity\":0.5}"));
      assertThat(refused.status()).as(refused.text()).isEqualTo(429);
      assertThat(store.find(BlobRoute.sha256(images))).isNull();
      api.delete("/api/v1/jobs/j4");
      // Stopped before the server is: its search would otherwise write on in a directory being deleted.
      assertThat(api.awaitFinished("j4", Duration.ofMinutes(2)).get("state")).isEqualTo("cancelled");
    }
  }

  /** The highest sequence number of the job book's rows in a table of the embedded store. */
  private static long sequenceNumber(Path data, String table) throws java.sql.SQLException {
    try (var db = java.sql.DriverManager.getConnection("jdbc:h2:file:" + data.resolve("journal")
        + ";DB_CLOSE_DELAY=-1;WRITE_DELAY=0", "evoc", "");
        var rows = db.createStatement().executeQuery("SELECT MAX(\"sequence_number\") FROM \"" + table
            + "\" WHERE \"persistence_id\" = 'evoc-jobs'")) {
      rows.next();
      return rows.getLong(1);
    }
  }

  /**
   * A job whose checkpoint is damaged while the server is down searches again from the start when
   * it comes back, and says so: a {@code started_over} event, and a view that no longer names the
   * damaged checkpoint's cycle. The damaged blob is dropped, and the result is still the command
   * line's.
   */
  @Test
  void aJobWhoseCheckpointIsDamagedStartsOverAndSaysSo(@TempDir Path dir) throws Exception {
    // Many small commits, so that the server stops mid-search.
    MlpJob job = new MlpJob(new String[][] {{"method", "de+bits"}, {"sparsity", "0.9"}, {"seed", "4"},
        {"calib-limit", "300"}, {"population", "8"}, {"generations", "2"}, {"step", "0.05"}, {"repair", "none"},
        {"swaps", "0"}, {"pareto-population", "8"}, {"pareto-generations", "2"}});
    Path data = dir.resolve("data");
    String id;
    int lost;
    try (EvocServer server = start(data)) {
      Api api = new Api(server.port(), TOKEN);
      Response submitted = api.submit(job.parts());
      assertThat(submitted.status()).as(submitted.text()).isEqualTo(202);
      id = (String) submitted.json().get("id");
      lost = api.awaitCheckpoint(id, 2);
    }
    // The server stopped mid-search; its blobs other than the inputs are checkpoints: the job's, and
    // one the search stored as the server stopped, before the job book could take it.
    java.util.Set<String> inputs = java.util.Set.of(BlobRoute.sha256(MLP),
        BlobRoute.sha256(FASHION.resolve("train-images-idx3-ubyte.gz")),
        BlobRoute.sha256(FASHION.resolve("train-labels-idx1-ubyte.gz")));
    List<Path> checkpoints;
    try (var blobs = Files.list(data.resolve("blobs"))) {
      checkpoints = blobs.filter(b -> !inputs.contains(b.getFileName().toString())).toList();
    }
    assertThat(checkpoints).hasSizeBetween(1, 2);
    for (Path c : checkpoints) {
      Files.writeString(c, "not a checkpoint");
    }
    try (EvocServer again = start(data)) {
      Api api = new Api(again.port(), TOKEN);
      Map<String, Object> view = api.awaitFinished(id, Duration.ofMinutes(5));
      assertThat(view.get("state")).as(view.toString()).isEqualTo("succeeded");
      assertThat(view.get("attempt")).isEqualTo(2);
      assertThat(view.get("resumed_cycle")).as("started over, not resumed after cycle " + lost).isEqualTo(0);
      List<Map<String, Object>> feed = api.events(id, TOKEN).get(1, java.util.concurrent.TimeUnit.MINUTES);
      List<Object> types = feed.stream().map(m -> m.get("type")).toList();
      int startedOver = types.indexOf("started_over");
      assertThat(startedOver).as(types.toString()).isGreaterThan(types.lastIndexOf("started"));
      assertThat((String) feed.get(startedOver).get("reason")).startsWith("cannot resume from the checkpoint: ");
      assertThat(checkpoints.stream().filter(Files::exists)).as("the job's damaged checkpoint is dropped")
          .hasSizeLessThan(checkpoints.size());
      assertThat(feed.get(startedOver).get("attempt")).isEqualTo(2);
      // The new search commits from cycle 1 again after it.
      assertThat(feed.subList(startedOver, feed.size())).filteredOn(m -> m.get("type").equals("commit"))
          .first().satisfies(m -> assertThat(m.get("cycle")).isEqualTo(1));
      assertThat(api.get("/api/v1/jobs/" + id + "/artifact").body()).isEqualTo(job.commandLineArtifact(dir));
    }
  }

  /** `evoc jobs` against a server that holds two finished jobs, {@code id} and j2, the same job twice. */
  private static void jobsOnTheCommandLine(EvocServer server, String id, byte[] artifact, Path dir) throws IOException {
    CliAccess.Result list = jobs(server, TOKEN, "list");
    assertThat(list.exitCode()).as(list.err()).isZero();
    assertThat(list.out().lines()).hasSize(3).first().asString().startsWith("ID").contains("STATE", "SPARSITY");
    assertThat(list.out().lines().skip(1)).allSatisfy(l -> assertThat(l).contains("succeeded", "60.0%"));
    assertThat(jobs(server, TOKEN, "list", "--json").out()).contains("\"jobs\"");
    assertThat(jobs(server, TOKEN, "show", id).out()).contains("\"state\" : \"succeeded\"", "\"id\" : \"" + id + "\"");
    // A finished job followed: at once, its artifact downloaded.
    Path followed = dir.resolve("followed-again.evoc");
    assertThat(jobs(server, TOKEN, "follow", id, "--out", followed.toString()).exitCode()).isZero();
    assertThat(Files.readAllBytes(followed)).isEqualTo(artifact);
    for (String what : new String[] {"artifact", "model", "report"}) {
      Path file = dir.resolve("fetched-" + what);
      assertThat(jobs(server, TOKEN, "fetch", "j2", "--what", what, "--out", file.toString()).exitCode()).isZero();
      assertThat(Files.readAllBytes(file)).isEqualTo(new Api(server.port(), TOKEN).get("/api/v1/jobs/j2/"
          + (what.equals("model") ? "model.onnx" : what)).body());
    }
    assertThat(jobs(server, TOKEN, "cancel", id).out()).isEqualTo(id + " had already succeeded: nothing to cancel");
    CliAccess.Result missing = jobs(server, TOKEN, "show", "j9");
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.err()).isEqualTo("evoc: job j9: no job 'j9' (404)");
    assertThat(jobs(server, "wrong", "list").err()).contains("401", "wrong bearer token").doesNotContain("\n");
  }

  /** `evoc jobs ARGS` against the server, with this token. */
  private static CliAccess.Result jobs(EvocServer server, String token, String... args) {
    List<String> all = new ArrayList<>(List.of("jobs"));
    all.addAll(List.of(args));
    all.addAll(List.of("--server", "http://127.0.0.1:" + server.port(), "--token", token));
    return CliAccess.output(all.toArray(String[]::new));
  }

  /** `evoc submit --follow` of {@link #JOB}, its artifact downloaded to {@code out}. */
  private static String[] followed(EvocServer server, Path out) throws IOException {
    List<String> submit = new ArrayList<>(List.of("submit", "--server", "http://127.0.0.1:" + server.port(),
        "--token", TOKEN, "--model", MLP.toString(), "--calib", FASHION + ":train", "--follow", "--out",
        out.toString()));
    new com.fasterxml.jackson.databind.ObjectMapper().readTree(SETTINGS).fields().forEachRemaining(e ->
        submit.addAll(List.of("--set", e.getKey() + "=" + e.getValue().asText())));
    return submit.toArray(String[]::new);
  }

  private static List<Map<String, Object>> withoutGenerations(List<Map<String, Object>> feed) {
    return feed.stream().filter(m -> !m.get("type").equals("generation")).toList();
  }

  @Test
  void badRequestsAreFourHundredsAndLeaveTheServerHealthy(@TempDir Path dir) throws Exception {
    // Parts up to 8 MB: the test set's images (4.4 MB) pass, the training set's (26 MB) do not.
    try (EvocServer server = start(dir.resolve("data"), Map.of("evoc.limits.upload-bytes", "8m"))) {
      Api api = new Api(server.port(), TOKEN);
      Path images = FASHION.resolve("t10k-images-idx3-ubyte.gz");
      assertThat(api.getWithToken("/api/v1/jobs", null).status()).isEqualTo(401);
      assertThat(api.getWithToken("/api/v1/jobs", "wrong").status()).isEqualTo(401);

      expect(api.submit(Api.parts("model", ROOT.resolve("README.md"), "calib", images)), 400,
          "part 'model': not an ONNX model");
      expect(api.submit(Api.parts("model", ROOT.resolve("examples/fixtures/unsupported-op.onnx"), "calib", images)),
          400, "Softsign");
      expect(api.submit(Api.parts("model", MLP, "calib", ROOT.resolve("examples/data/npy-formats/f8.npy"))), 400,
          "part 'calib': samples of shape [2,2] do not fit");
      expect(api.submit(Api.parts("model", MLP, "calib", ROOT.resolve("README.md"))), 400, "part 'calib'");
      expect(api.submit(Api.parts("model", MLP, "calib", images, "settings", "{\"sparsity\":\"lots\"}")), 400,
          "--sparsity");
      expect(api.submit(Api.parts("model", MLP, "calib", images, "settings", "{\"sparsity\":1.5}")), 400,
          "--sparsity 1.5");
      expect(api.submit(Api.parts("model", MLP, "calib", images, "settings", "{\"frobnicate\":1}")), 400,
          "--frobnicate");
      expect(api.submit(Api.parts("model", MLP, "calib", images, "settings", "{\"out\":\"/etc/passwd\"}")), 400,
          "'out' is set by the server");
      // Settings never reach the server's files: no @file expansion, no flag smuggled in a key.
      Response atFile = api.submit(Api.parts("model", MLP, "calib", images, "settings", "{\"method\":\"@/etc/passwd\"}"));
      expect(atFile, 400, "@/etc/passwd");
      assertThat(atFile.text()).doesNotContain("root:");
      expect(api.submit(Api.parts("model", MLP, "calib", images, "settings", "{\"test=/etc/passwd\":\"1\"}")), 400,
          "'test=/etc/passwd' is not a flag name");
      expect(api.submit(Api.parts("model", MLP, "calib", images, "settings", "{\"population\":2000000000}")), 400,
          "--population 2000000000: expected 2 to 10000");
      expect(api.submit(Api.parts("calib", images)), 400, "part 'model' is missing");
      // Refused mid-upload, or unread for a wrong token: the answer still reaches the client, every
      // time (it used to be lost, now and then, to the reset of the upload still in flight).
      Path big = FASHION.resolve("train-images-idx3-ubyte.gz");
      for (int i = 0; i < 10; i++) {
        expect(api.submit(Api.parts("model", MLP, "calib", big)), 413,
            "part 'calib': larger than 8388608 bytes (evoc.limits.upload-bytes)");
        expect(new Api(server.port(), "wrong").submit(Api.parts("model", MLP, "calib", big)), 401, "token");
      }
      expect(api.submit(Api.parts("model", MLP, "calib", images, "settings", "{\"seed\":\"" + "7".repeat(70_000) + "\"}")),
          413, "part 'settings': larger than 65536 bytes");
      expect(api.get("/api/v1/jobs/j404"), 404, "no job 'j404'");
      // Pekko's own rejections keep their status but answer in the API's JSON, on one line.
      expect(api.send("POST", "/api/v1/jobs", "application/json", "{}"), 415, "Expected: multipart/form-data");
      expect(api.send("PUT", "/api/v1/jobs", null, null), 405, "supported methods: POST, GET");
      expect(api.send("POST", "/api/v1/jobs/j404", null, null), 405, "supported methods: GET, DELETE");
      expect(api.send("POST", "/health", null, null), 405, "supported methods: GET");
      expect(api.send("GET", "/api/v1/nothing", null, null), 404, "could not be found");
      expect(api.send("GET", "/nothing", null, null), 404, "could not be found");
      assertThat(api.get("/api/v1/jobs").json().get("jobs")).asList().isEmpty();
      try (var files = Files.list(dir.resolve("data/incoming"))) {
        assertThat(files).as("nothing of a refused upload stays").isEmpty();
      }

      // A queued job cancelled before it runs: nothing to download.
      Response slow = api.submit(Api.parts("model", MLP, "calib", images, "settings",
          "{\"sparsity\":0.9,\"calib-limit\":2000}"));
      Response queued = api.submit(Api.parts("model", MLP, "calib", images, "settings", SETTINGS));
      String id = (String) queued.json().get("id");
      assertThat(api.delete("/api/v1/jobs/" + id).status()).isEqualTo(202);
      assertThat(api.get("/api/v1/jobs/" + id).json().get("state")).isEqualTo("cancelled");
      expect(api.get("/api/v1/jobs/" + id + "/artifact"), 409, "cancelled");
      CliAccess.Result fetch = jobs(server, TOKEN, "fetch", id, "--out", dir.resolve("none.evoc").toString());
      assertThat(fetch.exitCode()).isEqualTo(2);
      assertThat(fetch.err()).startsWith("evoc: job " + id + ": ").contains("cancelled", "(409)");
      assertThat(dir.resolve("none.evoc")).doesNotExist();
      // A job not yet started has no progress: its row says so.
      assertThat(jobs(server, TOKEN, "list").out().lines()).anySatisfy(l -> assertThat(l)
          .matches(slow.json().get("id") + " +(queued|running) +\\S+ +(-|[0-9.]+%) .*"));
      CliAccess.Result cancel = jobs(server, TOKEN, "cancel", (String) slow.json().get("id"));
      assertThat(cancel.out()).as(cancel.err()).startsWith(slow.json().get("id") + " cancel");
      assertThat(api.awaitFinished((String) slow.json().get("id"), Duration.ofMinutes(2)).get("state"))
          .isEqualTo("cancelled");
      assertThat(api.get("/health").status()).isEqualTo(200);
    }
  }

  @Test
  void aQuietEventStreamStaysOpenAndFollowOutlivesACutOne(@TempDir Path dir) throws Exception {
    // Shipped: pings well inside the server's idle timeout.
    com.typesafe.config.Config shipped = EvocServer.config(Map.of());
    assertThat(shipped.getDuration("pekko.http.server.websocket.periodic-keep-alive-max-idle"))
        .isLessThan(shipped.getDuration("pekko.http.server.idle-timeout").dividedBy(2));
    Path images = FASHION.resolve("t10k-images-idx3-ubyte.gz");
    String busy = "{\"sparsity\":0.95,\"calib-limit\":4000}";
    // The same, scaled down: a queued job's stream says nothing for longer than the idle timeout.
    try (EvocServer server = idleTimeoutOfTwoSeconds(dir.resolve("a"), "500ms")) {
      Api api = new Api(server.port(), TOKEN);
      String running = (String) api.submit(Api.parts("model", MLP, "calib", images, "settings", busy)).json().get("id");
      String queued = (String) api.submit(JOB.parts()).json().get("id");
      var stream = api.events(queued, TOKEN);
      Thread.sleep(5000);
      assertThat(api.get("/api/v1/jobs/" + queued).json().get("state")).isEqualTo("queued");
      assertThat(stream).as("a silent stream, kept open by pings").isNotDone();
      api.delete("/api/v1/jobs/" + queued);
      api.delete("/api/v1/jobs/" + running);
      api.awaitFinished(running, Duration.ofMinutes(2));
    }
    // Without pings the server cuts it (as a proxy might): `submit --follow` opens it again and
    // sees the job to its end.
    try (EvocServer server = idleTimeoutOfTwoSeconds(dir.resolve("b"), "infinite")) {
      Api api = new Api(server.port(), TOKEN);
      String running = (String) api.submit(Api.parts("model", MLP, "calib", images, "settings", busy)).json().get("id");
      String quiet = (String) api.submit(JOB.parts()).json().get("id");
      assertThat(api.events(quiet, TOKEN)).as("cut while queued").succeedsWithin(Duration.ofSeconds(10));
      api.delete("/api/v1/jobs/" + quiet);
      // The followed job (the third) waits behind the running one for two idle timeouts.
      var release = java.util.concurrent.CompletableFuture.runAsync(() -> {
        try {
          while (api.get("/api/v1/jobs/j3").status() != 200) {
            Thread.sleep(100);
          }
          Thread.sleep(4000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        api.delete("/api/v1/jobs/" + running);
      });
      assertThat(CliAccess.run(followed(server, dir.resolve("followed.evoc")))).isZero();
      release.get(1, java.util.concurrent.TimeUnit.MINUTES);
      assertThat(api.get("/api/v1/jobs/j3").json().get("state")).isEqualTo("succeeded");
      assertThat(dir.resolve("followed.evoc")).isNotEmptyFile();
    }
  }

  /** A server that closes a connection quiet for 2 s, pinging event streams after {@code keepAlive} of quiet. */
  private static EvocServer idleTimeoutOfTwoSeconds(Path data, String keepAlive) throws IOException {
    return start(data, Map.of("pekko.http.server.idle-timeout", "2s",
        "pekko.http.server.websocket.periodic-keep-alive-max-idle", keepAlive));
  }

  @Test
  void anUploadToANodeWithoutACoordinatorGetsItsAnswer(@TempDir Path dir) throws Exception {
    // The job API refuses before reading the upload: the client still shows the 503, not a reset.
    try (EvocServer node = start(dir.resolve("data"), Map.of("evoc.roles", List.of("evaluator")))) {
      Api api = new Api(node.port(), TOKEN);
      for (int i = 0; i < 5; i++) {
        expect(api.submit(Api.parts("model", MLP, "calib", FASHION.resolve("train-images-idx3-ubyte.gz"))), 503,
            "no coordinator is in the cluster");
      }
    }
  }

  @Test
  void aGeneratedTokenIsOwnerOnlyAndKeptAcrossRestarts(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("data");
    Map<String, Object> config = Map.of("evoc.data-dir", data.toString(), "evoc.http.port", 0,
        "pekko.remote.artery.canonical.port", 0, "evoc.token", "");
    StringWriter printed = new StringWriter();
    String token;
    try (EvocServer server = EvocServer.start(config, new PrintWriter(printed, true))) {
      token = Files.readString(data.resolve("token")).trim();
      assertThat(printed.toString()).contains("generated API token", token);
      assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(
          data.resolve("token")))).isEqualTo("rw-------");
      Api api = new Api(server.port(), token);
      assertThat(api.get("/api/v1/jobs").status()).isEqualTo(200);
      assertThat(api.statusWithAuthorization("/api/v1/jobs", "bearer " + token)).as("the scheme in lower case")
          .isEqualTo(200);
      assertThat(api.statusWithAuthorization("/api/v1/jobs", token)).as("no scheme").isEqualTo(401);
      assertThat(api.statusWithAuthorization("/api/v1/jobs", "Bearer " + token + "x")).isEqualTo(401);
    }
    StringWriter again = new StringWriter();
    try (EvocServer server = EvocServer.start(config, new PrintWriter(again, true))) {
      assertThat(again.toString()).doesNotContain(token);
      assertThat(new Api(server.port(), token).get("/api/v1/jobs").status()).isEqualTo(200);
    }
  }

  /** What `promtool check metrics` says of the text (nothing when it passes); promtool comes with ops/install-debian.sh. */
  static String promtool(String metrics, Path dir) throws IOException, InterruptedException {
    Path file = dir.resolve("metrics.txt");
    Files.writeString(file, metrics);
    Process p;
    try {
      p = new ProcessBuilder("promtool", "check", "metrics").redirectInput(file.toFile()).redirectErrorStream(true)
          .start();
    } catch (IOException e) {
      throw new AssertionError("promtool is not installed: run ops/install-debian.sh (Debian package prometheus)", e);
    }
    String said = new String(p.getInputStream().readAllBytes()).trim();
    return p.waitFor() == 0 ? said : "exit " + p.exitValue() + ": " + said;
  }

  /** A series' value in Prometheus text; 0 when it is absent. */
  /** The sum of a counter's series that carry {@code label} ({@code name="value"}). */
  private static double metric(String text, String name, String label) {
    return text.lines().filter(l -> l.startsWith(name + "{") && l.substring(0, l.indexOf('}')).contains(label))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
  }

  private static void expect(Response r, int status, String message) {
    assertThat(r.status()).as(r.text()).isEqualTo(status);
    assertThat((String) r.json().get("error")).contains(message).doesNotContain("\n");
  }
}
