package io.evoc.coordinator.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.evoc.coordinator.client.ServerClient;
import io.evoc.coordinator.server.LocalNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Scoring throughput of one search job with 1, 2, 3... evaluator JVMs on loopback, each held to
 * the same number of compute threads, against the in-process engine held to the same: the job's
 * candidates divided by the time its populations spent being scored (the report's
 * {@code scoring_seconds}), so the coordinator's own work between generations counts for neither.
 * Every run uses the same job and seed: the artifacts must agree byte for byte, and the command
 * says whether they do. With {@code --ceiling} it also runs N in-process jobs at once: on a machine
 * with few cores that, not the cluster, bounds what N evaluators can deliver.
 */
@Command(name = "cluster", mixinStandardHelpOptions = true,
    description = "Scoring throughput with 1, 2, 3... evaluator JVMs against the in-process engine.")
final class BenchClusterCommand implements Callable<Integer> {
  private static final String TOKEN = "bench-cluster";

  @Option(names = "--model", required = true, paramLabel = "FILE.onnx")
  Path model;

  @Option(names = "--calib", required = true, paramLabel = "DATA")
  String calib;

  @Option(names = "--evaluators", defaultValue = "1,2,3", paramLabel = "N[,N...]",
      description = "Evaluator JVMs per run (default ${DEFAULT-VALUE}).")
  String evaluators;

  @Option(names = "--threads", defaultValue = "1", paramLabel = "N",
      description = "Compute threads of each evaluator, and of the in-process run (default ${DEFAULT-VALUE}).")
  int threads;

  @Option(names = "--rounds", defaultValue = "1", paramLabel = "N",
      description = "Rounds of every configuration, interleaved; each figure is the median (default ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--ceiling", description = "Also run, for each count N > 1, N in-process runs at once: what "
      + "this machine gives N independent JVMs bounds what N evaluators can reach.")
  boolean ceiling;

  @Option(names = "--warm-up", defaultValue = "1", paramLabel = "JOBS",
      description = "Jobs run on each fresh cluster before the one measured, to warm it as a long-lived cluster is: "
          + "otherwise the JIT compilers of the new JVMs compete with the scoring for the cores (default "
          + "${DEFAULT-VALUE}; 0 measures the first job).")
  int warmUp;

  @Option(names = "--set", paramLabel = "FLAG=VALUE",
      description = "A setting of the job, as `evoc compress` takes it; over the defaults method=de, sparsity=0.9, "
          + "repair=none, swaps=0, calib-limit=2000, seed=1.")
  Map<String, String> set = new LinkedHashMap<>();

  @Option(names = "--colocated", description = "The coordinator node hosts the first evaluator, as `evoc serve` "
      + "alone does: N evaluators take N JVMs instead of N + 1.")
  boolean colocated;

  @Option(names = "--work-dir", paramLabel = "DIR", description = "Nodes' data and logs (default: a temporary directory).")
  Path workDir;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    List<Integer> counts = Arrays.stream(evaluators.split(",")).map(String::trim).map(Integer::valueOf).toList();
    if (counts.isEmpty() || counts.stream().anyMatch(n -> n < 1) || threads < 1 || rounds < 1 || warmUp < 0) {
      throw new IllegalArgumentException("--evaluators, --threads and --rounds must be positive, --warm-up not negative");
    }
    Map<String, String> settings = new LinkedHashMap<>(Map.of("method", "de", "sparsity", "0.9", "repair", "none",
        "swaps", "0", "calib-limit", "2000", "seed", "1"));
    settings.putAll(set);
    Path dir = workDir != null ? Files.createDirectories(workDir) : Files.createTempDirectory("evoc-bench-cluster");

    // Rounds interleave the configurations, so that a slow spell of the machine hits them alike;
    // each configuration's figure is its median round.
    Map<Integer, List<Run>> byCount = new java.util.TreeMap<>();
    // One evaluator against in-process within each round: the overhead, free of the rounds' drift.
    List<Double> oneRatios = new ArrayList<>();
    // The part of that overhead measured within the cluster's own run: the share of the scoring
    // time its evaluator was not working on a unit (messages in flight, preparations waited for).
    List<Double> oneWaiting = new ArrayList<>();
    // N in-process runs at once against one alone, per N: the machine's own scaling.
    Map<Integer, List<Double>> ceilings = new java.util.TreeMap<>();
    for (int round = 1; round <= rounds; round++) {
      String tag = rounds == 1 ? "" : " [round " + round + "]";
      Run l = inProcess(dir.resolve("in-process-" + round), settings);
      byCount.computeIfAbsent(0, k -> new ArrayList<>()).add(l);
      out.printf("in process (%d thread%s): %.1f candidates/s (%d in %.1f s of scoring; the search %.1f s)%s%n",
          threads, threads == 1 ? "" : "s", l.rate(), l.candidates(), l.seconds(), l.searchSeconds(), tag);
      out.flush();
      for (int n : counts) {
        Run r = cluster(dir.resolve("cluster-" + n + "-" + round), n, settings);
        byCount.computeIfAbsent(n, k -> new ArrayList<>()).add(r);
        if (n == 1) {
          oneRatios.add(r.rate() / l.rate());
          oneWaiting.add(1 - r.busySeconds() / r.seconds());
        }
        if (ceiling && n > 1) {
          double rate = inProcessAtOnce(dir.resolve("in-process-x" + n + "-" + round), n, settings);
          ceilings.computeIfAbsent(n, k -> new ArrayList<>()).add(rate / l.rate());
          out.printf("%d in-process runs at once: %.1f candidates/s in all, %.2fx one alone%s%n", n, rate,
              rate / l.rate(), tag);
        }
        out.printf("%d evaluator%s: %.1f candidates/s (%d in %.1f s; the evaluators busy %.1f s in all; the search "
            + "%.1f s), %.2fx in-process%s%n", n, n == 1 ? "" : "s", r.rate(), r.candidates(), r.seconds(),
            r.busySeconds(), r.searchSeconds(), r.rate() / l.rate(), tag);
        out.flush();
      }
    }
    Run local = median(byCount.get(0));
    List<Run> runs = counts.stream().map(n -> median(byCount.get(n))).toList();
    boolean same = byCount.values().stream().flatMap(List::stream)
        .allMatch(r -> Arrays.equals(r.artifact(), local.artifact()));
    Run one = runs.stream().filter(r -> r.evaluators() == 1).findFirst().orElse(null);
    List<Map<String, Object>> json = new ArrayList<>();
    if (rounds > 1) {
      out.printf("medians of %d rounds:%n", rounds);
      out.printf("in process: %.1f candidates/s%n", local.rate());
      runs.forEach(r -> out.printf("%d evaluator%s: %.1f candidates/s, %.2fx in-process%n", r.evaluators(),
          r.evaluators() == 1 ? "" : "s", r.rate(), r.rate() / local.rate()));
      ceilings.forEach((n, c) -> out.printf("%d in-process runs at once: %.2fx one alone%n", n, Medians.of(c)));
    }
    for (Run r : runs) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("evaluators", r.evaluators());
      m.put("candidates_per_s", Json.hundredths(r.rate()));
      m.put("evaluators_busy_s", Json.hundredths(r.busySeconds()));
      m.put("search_s", Json.hundredths(r.searchSeconds()));
      if (ceilings.containsKey(r.evaluators())) {
        m.put("machine_ceiling", Json.hundredths(Medians.of(ceilings.get(r.evaluators()))));
      }
      if (one != null) {
        // Per added evaluator: what each one beyond the first adds, against what the first delivers.
        m.put("efficiency", r.evaluators() == 1 ? 1.0
            : Json.hundredths((r.rate() - one.rate()) / ((r.evaluators() - 1) * one.rate())));
      }
      json.add(m);
    }
    Double overhead = oneRatios.isEmpty() ? null : 1 - Medians.of(oneRatios);
    if (overhead != null) {
      out.printf("cluster overhead with one evaluator: %.1f%% (median of the rounds' own ratios; target <= 10%%), "
          + "of which the evaluator waited %.1f%%%n", 100 * overhead, 100 * Medians.of(oneWaiting));
    }
    out.printf("artifacts %s%n", same ? "identical in every run" : "DIFFER between runs");
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("model", model.getFileName().toString());
    line.put("threads", threads);
    line.put("rounds", rounds);
    line.put("warm_up_jobs", warmUp);
    line.put("colocated", colocated);
    line.put("cores", Runtime.getRuntime().availableProcessors());
    line.put("in_process_per_s", Json.hundredths(local.rate()));
    line.put("in_process_search_s", Json.hundredths(local.searchSeconds()));
    line.put("runs", json);
    line.put("overhead_one_evaluator", overhead == null ? null : Json.hundredths(overhead));
    line.put("waiting_one_evaluator", oneWaiting.isEmpty() ? null : Json.hundredths(Medians.of(oneWaiting)));
    line.put("identical_artifacts", same);
    out.println(new ObjectMapper().writeValueAsString(line));
    out.flush();
    return same ? 0 : 1;
  }

  /**
   * @param seconds the populations' scoring
   * @param busySeconds summed over the evaluators: their time on units, student updates included
   * @param searchSeconds the whole search, the coordinator's own work between generations included:
   *     what bounds the job's speed-up as evaluators are added
   */
  private record Run(int evaluators, long candidates, double seconds, double busySeconds, double searchSeconds,
      byte[] artifact) {
    double rate() {
      return seconds > 0 ? candidates / seconds : 0;
    }
  }

  /** `evoc compress` in a JVM of its own, held to the same threads as an evaluator. */
  private Run inProcess(Path dir, Map<String, String> settings) throws IOException, InterruptedException {
    return finish(startInProcess(dir, settings), dir);
  }

  /** n in-process runs started together: their rates summed (they run about equally long). */
  private double inProcessAtOnce(Path dir, int n, Map<String, String> settings) throws IOException, InterruptedException {
    List<Process> started = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      started.add(startInProcess(dir.resolve(Integer.toString(i)), settings));
    }
    double rate = 0;
    for (int i = 0; i < n; i++) {
      rate += finish(started.get(i), dir.resolve(Integer.toString(i))).rate();
    }
    return rate;
  }

  private Process startInProcess(Path dir, Map<String, String> settings) throws IOException {
    Files.createDirectories(dir);
    List<String> cmd = new ArrayList<>(LocalNode.evocCommand("4g", LocalNode.threadLimit(threads), List.of("compress",
        "--model", model.toString(), "--calib", calib, "--out", dir.resolve("artifact.evoc").toString(), "--report",
        dir.resolve("report.json").toString())));
    settings.forEach((k, v) -> cmd.addAll(List.of("--" + k, v)));
    ProcessBuilder b = LocalNode.evocProcess(cmd).redirectErrorStream(true)
        .redirectOutput(dir.resolve("compress.log").toFile());
    b.environment().putAll(LocalNode.threadLimitEnv(threads));
    return b.start();
  }

  private Run finish(Process process, Path dir) throws IOException, InterruptedException {
    int exit = process.waitFor();
    if (exit != 0) {
      throw new IllegalStateException("the in-process run failed (" + exit + "): " + Files.readString(dir.resolve("compress.log")));
    }
    return run(0, new ObjectMapper().readValue(dir.resolve("report.json").toFile(), Map.class), 0,
        Files.readAllBytes(dir.resolve("artifact.evoc")));
  }

  /**
   * A coordinator node and n evaluators, each on a node of its own or, {@code --colocated}, the
   * first on the coordinator's; the job submitted over HTTP.
   */
  private Run cluster(Path dir, int n, Map<String, String> settings) throws Exception {
    // Held to the same threads as the evaluators and the in-process run: the search's own compute
    // (the curvature prior) would otherwise take both cores of a small machine from the evaluators.
    LocalNode coordinator = new LocalNode(dir.resolve("coordinator"),
        List.of("--roles", colocated ? "coordinator,finalizer,evaluator" : "coordinator,finalizer"),
        LocalNode.threadLimit(threads), LocalNode.threadLimitEnv(threads));
    List<LocalNode> nodes = new ArrayList<>(List.of(coordinator));
    try {
      String seed = "127.0.0.1:" + coordinator.clusterPort;
      for (int i = colocated ? 1 : 0; i < n; i++) {
        nodes.add(new LocalNode(dir.resolve("evaluator-" + i), List.of("--roles", "evaluator", "--seed-nodes", seed),
            LocalNode.threadLimit(threads), LocalNode.threadLimitEnv(threads)));
      }
      LocalNode.startCluster(TOKEN, Duration.ofMinutes(2), coordinator,
          nodes.subList(1, nodes.size()).toArray(LocalNode[]::new));
      ServerClient client = new ServerClient("http://127.0.0.1:" + coordinator.httpPort, TOKEN);
      client.awaitEvaluators(n, Duration.ofMinutes(1));
      for (int i = 0; i < warmUp; i++) {
        runJob(client, settings);
      }
      double busyBefore = busySeconds(client);
      String id = runJob(client, settings);
      double busy = busySeconds(client) - busyBefore;
      // Kept beside the nodes' logs, as the in-process run's report is, to compare their traces.
      ServerClient.Response report = client.get("/api/v1/jobs/" + id + "/report");
      Files.write(dir.resolve("report.json"), report.body());
      return run(n, report.json(), busy, client.get("/api/v1/jobs/" + id + "/artifact").body());
    } finally {
      for (LocalNode node : nodes) {
        node.close();
      }
    }
  }

  /** Submits the job and waits until it succeeds; its id. */
  private String runJob(ServerClient client, Map<String, String> settings) throws Exception {
    Map<String, Object> parts = new LinkedHashMap<>();
    parts.put("model", model);
    SubmitCommand.addData(parts, "calib", calib);
    parts.put("settings", new ObjectMapper().writeValueAsString(settings));
    ServerClient.Response submitted = client.submit(parts);
    if (submitted.status() != 202) {
      throw new IllegalStateException("the job was refused (" + submitted.status() + "): " + submitted.error());
    }
    String id = (String) submitted.json().get("id");
    Map<String, Object> job = client.awaitFinished(id, Duration.ofHours(1));
    if (!"succeeded".equals(job.get("state"))) {
      throw new IllegalStateException("job " + job.get("state") + ": " + job.get("error"));
    }
    return id;
  }

  /** The time the cluster's evaluators have spent on units so far, in all. */
  private static double busySeconds(ServerClient client) throws Exception {
    double busy = 0;
    for (Object e : (List<?>) client.get("/api/v1/cluster").json().get("evaluators")) {
      Map<?, ?> v = (Map<?, ?>) e;
      double rate = ((Number) v.get("candidates_per_second")).doubleValue();
      busy += rate > 0 ? ((Number) v.get("candidates_scored")).doubleValue() / rate : 0;
    }
    return busy;
  }

  /** The run of middle rate; with an even count the slower of the middle two. */
  private static Run median(List<Run> runs) {
    List<Run> sorted = new ArrayList<>(runs);
    sorted.sort(java.util.Comparator.comparingDouble(Run::rate));
    return sorted.get((sorted.size() - 1) / 2);
  }

  @SuppressWarnings("unchecked")
  private static Run run(int evaluators, Map<String, Object> report, double busy, byte[] artifact) {
    Map<String, Object> sparsify = (Map<String, Object>) report.get("sparsify");
    return new Run(evaluators, ((Number) sparsify.get("candidates_scored")).longValue(),
        ((Number) sparsify.get("scoring_seconds")).doubleValue(), busy, ((Number) sparsify.get("seconds")).doubleValue(),
        artifact);
  }
}
