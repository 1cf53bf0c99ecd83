package io.evoc.coordinator.search;

import java.util.List;
import java.util.Map;

/**
 * What a search produced; the student weights are in the table it was given.
 *
 * @param layerSparsity per weight name, in layer order
 * @param layerGoals the goal each layer had (after the sensitivity split)
 * @param stopReason "goal reached", "time budget", "divergence budget" or "cancelled"
 */
public record SparsifyResult(Map<String, Double> layerSparsity, Map<String, Double> layerGoals, double sparsity,
    float divergence, float agreement, List<TraceEntry> trace, long candidatesScored, double seconds,
    String stopReason) {
  public double candidatesPerSecond() {
    return seconds > 0 ? candidatesScored / seconds : 0;
  }
}
