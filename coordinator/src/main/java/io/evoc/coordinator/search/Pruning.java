package io.evoc.coordinator.search;

import io.evoc.evaluator.scoring.CandidateScorer;
import io.evoc.evaluator.scoring.Layer;
import java.util.Arrays;

/** Weight costs and the sets they rank first: shared by the magnitude baseline and the search. */
final class Pruning {
  private Pruning() {}

  /** |w|: the magnitude baseline's cost. */
  static float[] magnitudes(CandidateScorer scorer, Layer layer) {
    float[] w = scorer.weights(layer);
    float[] out = new float[w.length];
    for (int i = 0; i < w.length; i++) {
      out[i] = Math.abs(w[i]);
    }
    return out;
  }

  /** |w| times the calibration norm of the input it multiplies: the search's prior cost. */
  static float[] activationWeighted(CandidateScorer scorer, LayerState state) {
    float[] w = scorer.weights(state.layer);
    float[] norms = scorer.inputNorms(state.layer);
    float[] out = new float[w.length];
    for (int i = 0; i < w.length; i++) {
      out[i] = Math.abs(w[i]) * norms[state.inputOf(i)];
    }
    return out;
  }

  /** The n survivors of lowest cost, sorted by index (ties broken by index). */
  static int[] lowest(LayerState state, float[] cost, int n) {
    int[] survivors = state.survivors();
    n = Math.max(0, Math.min(n, survivors.length));
    Integer[] order = Arrays.stream(survivors).boxed().toArray(Integer[]::new);
    Arrays.sort(order, (a, b) -> a.equals(b) ? 0 : cost[a] != cost[b] ? Float.compare(cost[a], cost[b]) : Integer.compare(a, b));
    int[] out = new int[n];
    for (int j = 0; j < n; j++) {
      out[j] = order[j];
    }
    Arrays.sort(out);
    return out;
  }
}
