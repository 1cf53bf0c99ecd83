package io.evoc.coordinator.cli;

import io.evoc.coordinator.search.TraceEntry;
import io.evoc.evaluator.scoring.Layer;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Shows the search on the terminal: a progress bar toward the overall sparsity goal when stderr is
 * a terminal, otherwise one line per commit (logs and tests read those).
 */
final class SearchProgress implements Consumer<TraceEntry>, AutoCloseable {
  private static final int PERMILLE = 1000;
  private final PrintWriter err;
  private final ProgressBar bar;
  private final double goal;
  /** Per weight, the name shown (see {@link Layer#label()}). */
  private final Map<String, String> labels;

  SearchProgress(PrintWriter err, double goal, boolean terminal, List<Layer> layers) {
    this.err = err;
    this.goal = goal;
    this.labels = layers.stream().collect(Collectors.toMap(Layer::weight, Layer::label));
    this.bar = terminal ? new ProgressBarBuilder().setTaskName("sparsify").setInitialMax(PERMILLE)
        .setStyle(ProgressBarStyle.ASCII).setUnit("‰", 1).continuousUpdate().build() : null;
  }

  @Override
  public void accept(TraceEntry e) {
    double seconds = e.elapsedMillis() / 1e3;
    double rate = seconds > 0 ? e.candidatesScored() / seconds : 0;
    String swap = e.restored() > 0 ? " (swap " + e.restored() + ")" : "";
    String what = e.distilled() > 0
        ? String.format("distilled %d epoch%s", e.distilled(), e.distilled() == 1 ? "" : "s")
        : String.format("%s %.1f%%", labels.getOrDefault(e.layer(), e.layer()), 100 * e.layerSparsity());
    String text = String.format("cycle %d%s  %s  overall %.1f%%  divergence %.5f  agreement %.4f  %.0f candidates/s",
        e.cycle(), swap, what, 100 * e.sparsity(), e.divergence(), e.agreement(), rate);
    if (bar != null) {
      bar.stepTo(Math.round(PERMILLE * Math.min(1, e.sparsity() / goal)));
      bar.setExtraMessage(String.format("cycle %d, %.1f%% sparse, divergence %.4f, %.0f cand/s", e.cycle(),
          100 * e.sparsity(), e.divergence(), rate));
    } else {
      err.printf("sparsify: %s  (%.1f s)%n", text, seconds);
      err.flush();
    }
  }

  @Override
  public void close() {
    if (bar != null) {
      bar.close();
    }
  }
}
