package io.evoc.coordinator.search;

import io.evoc.evaluator.scoring.CandidateScorer;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits one overall sparsity goal across layers by measured sensitivity: each layer alone loses
 * its weights of lowest curvature cost (the search's prior, at the teacher) up to a grid of levels,
 * and is scored; then, one percent of one layer at a time, the split grows where the divergence
 * added per weight is smallest until the overall goal is met, the last step trimmed to land on it.
 * Both methods share the split, so they are compared on the same per-layer sparsity.
 */
final class Allocation {
  static final double[] GRID = {0.3, 0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.98};
  private static final double CAP = 0.99;
  private static final double STEP = 0.01;

  private Allocation() {}

  /** Sets {@code goalZeros} of the states not fixed by a per-layer goal. */
  static void bySensitivity(CandidateScorer scorer, List<LayerState> free, List<LayerState> all, double goal,
      long seed) {
    long total = all.stream().mapToLong(s -> s.size).sum();
    long fixed = all.stream().filter(s -> !free.contains(s)).mapToLong(s -> s.goalZeros).sum();
    long wanted = Math.round(goal * total) - fixed;
    long room = free.stream().mapToLong(s -> (long) Math.floor(CAP * s.size)).sum();
    if (wanted > room) {
      throw new IllegalArgumentException(String.format("--sparsity %s cannot be reached: the layers left to the"
          + " search hold at most %d of the %d weights to zero (each layer keeps at least 1%%)", goal, room, wanted));
    }
    List<double[]> curves = new ArrayList<>();
    for (LayerState s : free) {
      // Undamped: the split both methods share was measured so; damping it is untried.
      float[] cost = Pruning.curvatureWeighted(scorer, s, seed, 0);
      List<int[]> sets = new ArrayList<>();
      for (double level : GRID) {
        sets.add(Pruning.lowest(s, cost, (int) Math.round(level * s.size) - s.zeros));
      }
      float[] d = scorer.score(s.layer, sets).divergence();
      double[] curve = new double[d.length];
      for (int i = 0; i < d.length; i++) {
        curve[i] = d[i];
      }
      curves.add(curve);
    }
    double[] level = new double[free.size()];
    long zeros = 0;
    for (int i = 0; i < free.size(); i++) {
      level[i] = free.get(i).sparsity();
      zeros += free.get(i).zeros;
    }
    int last = -1;
    while (zeros < wanted) {
      int best = -1;
      double bestCost = Double.POSITIVE_INFINITY;
      for (int i = 0; i < free.size(); i++) {
        if (level[i] + STEP > CAP + 1e-9) {
          continue;
        }
        double cost = (at(curves.get(i), level[i] + STEP) - at(curves.get(i), level[i])) / (free.get(i).size * STEP);
        if (cost < bestCost) {
          bestCost = cost;
          best = i;
        }
      }
      if (best < 0) {
        break;
      }
      level[best] += STEP;
      zeros += Math.round(STEP * free.get(best).size);
      last = best;
    }
    long goals = 0;
    for (int i = 0; i < free.size(); i++) {
      LayerState s = free.get(i);
      s.goalZeros = Math.max(s.zeros, (int) Math.round(Math.min(level[i], CAP) * s.size));
      goals += s.goalZeros;
    }
    if (last >= 0 && goals != wanted) {
      // The last step was a whole percent of its layer: settle the overshoot (or a rounding
      // shortfall) there.
      LayerState s = free.get(last);
      long settled = Math.min((long) Math.floor(CAP * s.size), s.goalZeros + wanted - goals);
      s.goalZeros = (int) Math.max(s.zeros, settled);
    }
  }

  /** Divergence at a level: linear between grid points, 0 at 0, the last slope doubled past it. */
  static double at(double[] curve, double x) {
    if (x <= GRID[0]) {
      return curve[0] * x / GRID[0];
    }
    for (int i = 1; i < GRID.length; i++) {
      if (x <= GRID[i]) {
        double t = (x - GRID[i - 1]) / (GRID[i] - GRID[i - 1]);
        return curve[i - 1] + t * (curve[i] - curve[i - 1]);
      }
    }
    int n = GRID.length - 1;
    double slope = (curve[n] - curve[n - 1]) / (GRID[n] - GRID[n - 1]);
    return curve[n] + 2 * slope * (x - GRID[n]);
  }
}
