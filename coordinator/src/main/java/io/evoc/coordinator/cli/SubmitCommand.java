package io.evoc.coordinator.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.evoc.coordinator.client.ServerClient;
import io.evoc.coordinator.server.jobs.JobRunner;
import io.evoc.evaluator.data.DataLoader;
import io.evoc.protocol.jobs.Blob;
import io.evoc.protocol.jobs.JobSpec;
import io.evoc.protocol.model.OnnxModel;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "submit", mixinStandardHelpOptions = true,
    description = "Uploads a compression job to an evoc server; with --follow, shows its progress live and "
        + "downloads the artifact when it succeeds.")
final class SubmitCommand implements Callable<Integer> {
  private static final int PERMILLE = 1000;
  private static final java.util.Set<String> FINISHED = java.util.Set.of("succeeded", "failed", "cancelled");
  /** How long --follow waits out error answers (a coordinator moving to another node). */
  private static final java.time.Duration PATIENCE = java.time.Duration.ofMinutes(5);

  @Option(names = "--server", defaultValue = "http://127.0.0.1:8080", paramLabel = "URL",
      description = "The server (default ${DEFAULT-VALUE}).")
  String server;

  @Option(names = "--token", paramLabel = "T", description = "The API token (default: EVOC_TOKEN).")
  String token;

  @Option(names = "--model", required = true, paramLabel = "FILE.onnx")
  Path model;

  @Option(names = "--calib", required = true, paramLabel = "DATA",
      description = "An IDX directory[:train|:test], an IDX images file (its labels beside it), .npy or .npz.")
  String calib;

  @Option(names = "--test", paramLabel = "DATA", description = "Held-out data, as --calib.")
  String test;

  @Option(names = "--set", paramLabel = "FLAG=VALUE",
      description = "A setting of `evoc compress` by its long flag name, repeatable: --set sparsity=0.9 --set seed=7.")
  Map<String, String> settings = new LinkedHashMap<>();

  @Option(names = "--follow", description = "Show the job's progress until it ends, then download the artifact.")
  boolean follow;

  @Option(names = "--out", paramLabel = "M.evoc", description = "Where --follow saves the artifact (default: ID.evoc).")
  Path out;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    String bearer = token != null ? token : System.getenv("EVOC_TOKEN");
    // What the server would refuse at once, refused here before anything is uploaded: the settings
    // parsed as the server parses them, and the model read.
    Blob named = Blob.newBuilder().setName("upload").build();
    CompressCommand.parse(JobRunner.arguments(JobSpec.newBuilder().setModel(named).setCalib(named)
        .putAllSettings(settings).build(), Path.of("")));
    OnnxModel.read(model);
    if (!server.matches("https?://[^/\\s]+(/\\S*)?")) {
      throw new IllegalArgumentException("--server '" + server + "': expected http://HOST:PORT");
    }
    ServerClient client = new ServerClient(server, bearer);
    Map<String, Object> parts = new LinkedHashMap<>();
    parts.put("model", model);
    addData(parts, "calib", calib);
    if (test != null) {
      addData(parts, "test", test);
    }
    parts.put("settings", new ObjectMapper().writeValueAsString(settings));
    ServerClient.Response r = client.submit(parts);
    if (r.status() != 202) {
      throw new IllegalArgumentException(server + " refused the job (" + r.status() + "): " + r.error());
    }
    String id = (String) r.json().get("id");
    stdout.println(id);
    stdout.flush();
    if (!follow) {
      return 0;
    }
    Map<String, Object> job = follow(client, id);
    if (!"succeeded".equals(job.get("state"))) {
      err.println("evoc: job " + id + " " + job.get("state") + (job.containsKey("error") ? ": " + job.get("error") : ""));
      return 1;
    }
    Path target = out != null ? out : Path.of(id + ".evoc");
    int status = client.download("/api/v1/jobs/" + id + "/artifact", target);
    if (status != 200) {
      throw new IllegalArgumentException("job " + id + ": the artifact download answered " + status);
    }
    err.printf("submit: job %s succeeded; %s (%s bytes)%n", id, target, job.get("artifact_bytes"));
    return 0;
  }

  /**
   * The job's events on a progress bar until it has finished; its last view. A stream closed or cut
   * before then (an idle timeout on the way, a coordinator moving behind a forwarding node) is opened
   * again, and what it replays from the start is skipped. An error answer (a 5xx) is waited out for
   * {@link #PATIENCE}; a 4xx, or no answer at all, ends it.
   */
  private Map<String, Object> follow(ServerClient client, String id) throws InterruptedException {
    double goal = settings.containsKey("sparsity") ? Double.parseDouble(settings.get("sparsity")) : 0.9;
    try (ProgressBar bar = new ProgressBarBuilder().setTaskName(id).setInitialMax(PERMILLE)
        .setStyle(ProgressBarStyle.ASCII).setConsumer(new me.tongfei.progressbar.ConsoleProgressBarConsumer(
            System.err)).continuousUpdate().build()) {
      int[] shown = {-1};
      long answered = System.nanoTime();
      while (true) {
        Throwable cut = null;
        try {
          client.events(id, e -> {
            int seq = ((Number) e.get("seq")).intValue();
            if (seq > shown[0]) {
              shown[0] = seq;
              show(bar, e, goal);
            }
          }).get();
        } catch (ExecutionException e) {
          cut = e.getCause();
        }
        ServerClient.Response now = client.get("/api/v1/jobs/" + id);
        if (now.status() == 200) {
          Map<String, Object> job = now.json();
          if (FINISHED.contains(String.valueOf(job.get("state")))) {
            bar.stepTo(PERMILLE);
            return job;
          }
          answered = System.nanoTime();
        } else if (now.status() / 100 == 4 || System.nanoTime() - answered > PATIENCE.toNanos()) {
          throw new IllegalArgumentException("job " + id + ": " + (cut != null ? "its event stream failed: "
              + cut.getMessage() + "; " : "") + "the server answers " + now.status() + ": " + now.error());
        } else {
          bar.setExtraMessage("waiting for the server: " + now.status() + " " + now.error());
        }
        Thread.sleep(1000);
      }
    }
  }

  /** A data spec's files as parts: the data, and its IDX labels when there are any. */
  static void addData(Map<String, Object> parts, String name, String spec) {
    Path[] files = DataLoader.files(spec);
    parts.put(name, files[0]);
    if (files[1] != null) {
      parts.put(name + "_labels", files[1]);
    }
  }

  private static void show(ProgressBar bar, Map<String, Object> e, double goal) {
    switch (String.valueOf(e.get("type"))) {
      case "commit", "distilled" -> {
        double sparsity = ((Number) e.get("sparsity")).doubleValue();
        bar.stepTo(Math.round(PERMILLE * 0.9 * Math.min(1, sparsity / goal)));
        bar.setExtraMessage(String.format("cycle %s, %.1f%% sparse, divergence %.4f", e.get("cycle"), 100 * sparsity,
            ((Number) e.get("divergence")).doubleValue()));
      }
      case "generation" -> bar.setExtraMessage(String.format("cycle %s gen %s, best %.4f", e.get("cycle"),
          e.get("generation"), ((Number) e.get("best_divergence")).doubleValue()));
      case "phase" -> {
        if ("finalizing".equals(e.get("phase"))) {
          bar.stepTo(Math.round(PERMILLE * 0.9));
        }
        bar.setExtraMessage(String.valueOf(e.get("phase")));
      }
      default -> bar.setExtraMessage(String.valueOf(e.get("type")));
    }
  }
}
