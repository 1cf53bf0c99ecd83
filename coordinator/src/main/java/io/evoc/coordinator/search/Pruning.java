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

  /**
   * The search's damping of the curvature, in units of the layer's mean curvature. Undamped, a
   * weight whose inputs the samples seldom use, or whose unit matters little to the student as it
   * is now, looks free to zero however large it is; distillation then lacks it. Damped by the mean,
   * such weights rank by magnitude among themselves. Measured in session 25 (MLPs, distillation,
   * test KL undamped → 0.1 → 1 → 10): 80% 0.0135 → 0.0105 → 0.0092 → 0.0121 (held-out teacher
   * 0.0152 → 0.0106 → 0.0088 → 0.0114); 90% 0.0268 → 0.0224 → 0.0206 (0.0293 → 0.0264 → 0.0250).
   * Only when a repair follows; with none the search stays undamped (see Sparsifier.zeroingCost).
   */
  static final float SEARCH_DAMPING = 1f;

  /**
   * 0.5·(h + λ·mean h)·w², the divergence that zeroing each weight alone adds by the curvature at
   * the current student (Optimal Brain Damage), damped by λ = {@code damping} (see
   * {@link #SEARCH_DAMPING}): the search's prior cost, re-estimated every cycle.
   */
  static float[] curvatureWeighted(CandidateScorer scorer, LayerState state, long seed, float damping) {
    float[] w = scorer.weights(state.layer);
    float[] h = scorer.curvature(state.layer, seed);
    double sum = 0;
    for (float v : h) {
      sum += v;
    }
    float floor = (float) (damping * sum / h.length);
    float[] out = new float[w.length];
    for (int i = 0; i < w.length; i++) {
      out[i] = 0.5f * (h[i] + floor) * w[i] * w[i];
    }
    return out;
  }

  /**
   * g·t + 0.5·h·t², the divergence that restoring each pruned weight alone to its original value t
   * adds (negative: it helps) by the gradient and curvature at the current student.
   */
  static float[] restoreCost(CandidateScorer scorer, LayerState state, long seed) {
    float[] g = scorer.gradient(state.layer);
    float[] h = scorer.curvature(state.layer, seed);
    float[] out = new float[g.length];
    for (int i = 0; i < g.length; i++) {
      float t = state.original[i];
      out[i] = g[i] * t + 0.5f * h[i] * t * t;
    }
    return out;
  }

  /** The n survivors of lowest cost, sorted by index (ties broken by index). */
  static int[] lowest(LayerState state, float[] cost, int n) {
    int[] survivors = state.survivors();
    int[] out = ranked(survivors, cost, Math.max(0, Math.min(n, survivors.length)));
    Arrays.sort(out);
    return out;
  }

  /** The n of {@code indices} of lowest cost, ordered by cost, ties by index. */
  static int[] ranked(int[] indices, float[] cost, int n) {
    long[] keyed = new long[indices.length];
    for (int j = 0; j < indices.length; j++) {
      keyed[j] = ((long) sortable(cost[indices[j]]) << 32) | (indices[j] & 0xffffffffL);
    }
    // Only the n lowest need ordering: the pool is a fifth of a large layer's survivors.
    selectSmallest(keyed, n);
    Arrays.sort(keyed, 0, n);
    int[] out = new int[n];
    for (int j = 0; j < n; j++) {
      out[j] = (int) keyed[j];
    }
    return out;
  }

  /** Float bits made to sort as signed ints in float order. */
  static int sortable(float f) {
    int bits = Float.floatToIntBits(f);
    return bits >= 0 ? bits : bits ^ 0x7fffffff;
  }

  /**
   * Moves the n smallest values of {@code a} (all distinct) into {@code a[0, n)}, in no particular
   * order: quickselect with a median-of-three pivot, linear on average.
   */
  static void selectSmallest(long[] a, int n) {
    selectSmallest(a, a.length, n);
  }

  /** {@link #selectSmallest(long[], int)} over {@code a[0, length)}. */
  static void selectSmallest(long[] a, int length, int n) {
    int lo = 0;
    int hi = length - 1;
    int target = n - 1;
    while (n > 0 && n < length && lo < hi) {
      int mid = (lo + hi) >>> 1;
      long pivot = Math.max(Math.min(a[lo], a[mid]), Math.min(Math.max(a[lo], a[mid]), a[hi]));
      int i = lo;
      int j = hi;
      while (i <= j) {
        while (a[i] < pivot) {
          i++;
        }
        while (a[j] > pivot) {
          j--;
        }
        if (i <= j) {
          long t = a[i];
          a[i++] = a[j];
          a[j--] = t;
        }
      }
      if (target <= j) {
        hi = j;
      } else if (target >= i) {
        lo = i;
      } else {
        return;
      }
    }
  }
}
