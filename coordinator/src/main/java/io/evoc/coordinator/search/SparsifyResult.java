package io.evoc.coordinator.search;

import java.util.List;
import java.util.Map;

/**
 * What a search produced; the student weights are in the table it was given.
 *
 * @param layerSparsity per weight name, in layer order
 * @param layerGoals the goal each layer had (after the sensitivity split)
 * @param scoringSeconds time spent scoring populations (in process or waiting for the evaluators)
 * @param stopReason "goal reached", "time budget", "divergence budget" or "cancelled"
 */
public record SparsifyResult(Map<String, Double> layerSparsity, Map<String, Double> layerGoals, double sparsity,
    float divergence, float agreement, List<TraceEntry> trace, long candidatesScored, double seconds,
    double scoringSeconds, String stopReason) {
  /** Over the whole search: scoring, curvature estimates, commits and repairs. */
  public double candidatesPerSecond() {
    return seconds > 0 ? candidatesScored / seconds : 0;
  }

  /** Over the time populations were being scored: what the scorer (or a cluster's evaluators) delivered. */
  public double scoringCandidatesPerSecond() {
    return scoringSeconds > 0 ? candidatesScored / scoringSeconds : 0;
  }
}
