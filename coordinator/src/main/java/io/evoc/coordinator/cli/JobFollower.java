package io.evoc.coordinator.cli;

import io.evoc.coordinator.client.ServerClient;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** A job on a server followed to its end on a progress bar (`submit --follow`, `jobs follow`), then its artifact. */
final class JobFollower {
  private static final int PERMILLE = 1000;
  private static final Set<String> FINISHED = Set.of("succeeded", "failed", "cancelled");
  /** How long error answers (a coordinator moving to another node) are waited out. */
  private static final Duration PATIENCE = Duration.ofMinutes(5);

  private JobFollower() {}

  /**
   * The job's events on a progress bar until it has finished; its last view. A stream closed or cut
   * before then (an idle timeout on the way, a coordinator moving behind a forwarding node) is opened
   * again, and what it replays from the start is skipped. An error answer (a 5xx) is waited out for
   * {@link #PATIENCE}; a 4xx, or no answer at all, ends it.
   *
   * @param goal the job's sparsity goal: how far the bar goes with the search's commits
   */
  static Map<String, Object> follow(ServerClient client, String id, double goal) throws InterruptedException {
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

  /** The sparsity goal in a job's settings, or compress's default. */
  static double goal(Map<?, ?> settings) {
    Object sparsity = settings == null ? null : settings.get("sparsity");
    return sparsity != null ? Double.parseDouble(sparsity.toString()) : 0.9;
  }

  /**
   * A finished job's artifact to {@code target}: exit 0; a job that did not succeed is said on
   * {@code err}: exit 1 (the job's outcome, where a refused request is an error, exit 2).
   */
  static int download(ServerClient client, String id, Map<String, Object> job, Path target, PrintWriter err) {
    if (!"succeeded".equals(job.get("state"))) {
      err.println("evoc: job " + id + " " + job.get("state") + (job.containsKey("error") ? ": " + job.get("error") : ""));
      return 1;
    }
    fetch(client, id, "artifact", target);
    err.printf("job %s succeeded; %s (%s bytes)%n", id, target, job.get("artifact_bytes"));
    return 0;
  }

  /** One of a job's outputs (artifact, model.onnx, report) to a file; the server's error, naming the job, if it has none. */
  static Path fetch(ServerClient client, String id, String output, Path target) {
    ServerClient.Response r = client.download("/api/v1/jobs/" + id + "/" + output, target);
    if (r.status() != 200) {
      throw refused(id, r);
    }
    return target;
  }

  /** A request about a job that the server refused: one line naming the job, the server's error and status. */
  static IllegalArgumentException refused(String id, ServerClient.Response r) {
    return new IllegalArgumentException("job " + id + ": " + r.error() + " (" + r.status() + ")");
  }

  /** The file an output goes to: {@code out}, or ID plus its extension; refused before any work if it cannot be. */
  static Path target(Path out, String id, String extension, Map<String, Path> inputs) {
    Path target = out != null ? out : Path.of(id + extension);
    OutputFiles.check(OutputFiles.named("--out", target), inputs);
    return target;
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
