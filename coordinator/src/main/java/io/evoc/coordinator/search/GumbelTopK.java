package io.evoc.coordinator.search;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The evolution's draws: Gumbel-top-k over pool weights, each weight's key its pool logit plus
 * Gumbel noise, -log(-log u) for a uniform u, the largest keys taken. The sets are exactly those
 * of computing every key, bit for bit, with the same uniforms drawn in the same order; but the
 * two logarithms of a key are computed only for the draws that can be among the largest.
 *
 * <p>Why that is exact: with E = -log u, 1 - u <= E <= (1 - u) / u, so exp(key) lies between
 * w·u / (1 - u) and w / (1 - u), with w = exp(logit) kept per pool slot. A value t that at least
 * {@code need} lower bounds reach has the need-th largest exp(key) at or above it, and a draw whose
 * upper bound stays under t (by a margin far wider than a float's rounding) cannot be chosen: its
 * float key sorts after at least {@code need} others. Among the draws that remain, the order
 * is the one the full computation gives. Mutation takes a few percent of the pool, and on an MLP
 * layer about a fifth of the keys are computed; with merging instead of sorting, the evolution
 * runs about 4x faster than with every key computed and every set sorted (see the README).
 *
 * <p>Holds scratch buffers the size of the pool: one instance per {@link Evolution}, one thread.
 */
final class GumbelTopK {
  /**
   * The cut's margin, 0.02 in key space: wider than a float's ulp for any |key| below 100,000 (the
   * logits stay within a few hundred of 0, the noise between -7 and 37).
   */
  private static final double MARGIN = Math.exp(-0.02);
  /** Lower bounds sampled to place the cut. */
  private static final int SUBSAMPLE = 256;

  private final float[] logit;
  private final int[] slot;
  private final double[] weight;
  private final double[] draw;
  /** w of each draw's weight. */
  private final double[] drawWeight;
  private final int[] candidate;
  private final long[] keyed;
  private final boolean[] chosen;
  private final double[] subsample = new double[SUBSAMPLE + 1];

  /**
   * @param logit per pool slot, read at each draw; {@link #refresh} after changing it
   * @param slot pool slot of each weight index
   */
  GumbelTopK(float[] logit, int[] slot) {
    this.logit = logit;
    this.slot = slot;
    int n = logit.length;
    weight = new double[n];
    draw = new double[n];
    drawWeight = new double[n];
    candidate = new int[n];
    keyed = new long[n];
    chosen = new boolean[n];
  }

  /** The logits changed (and before the first draw). */
  void refresh() {
    for (int j = 0; j < logit.length; j++) {
      weight[j] = Math.exp(logit[j]);
    }
  }

  /**
   * {@code base} plus the {@code need} weights of {@code from[0, n)} with the largest keys (all of them
   * when it has no more), in index order. One uniform is drawn per weight of {@code from}, in
   * order, whatever is taken.
   *
   * @param base sorted, disjoint from {@code from}
   * @param from sorted pool weights in {@code [0, n)}
   */
  int[] sample(int[] base, int need, int[] from, int n, SplittableRandom random) {
    for (int j = 0; j < n; j++) {
      draw[j] = random.nextDouble();
      drawWeight[j] = weight[slot[from[j]]];
    }
    if (need >= n) {
      Arrays.fill(chosen, 0, n, true);
      return merged(base, from, identity(n), n, n);
    }
    // Bounds compared as w·u against t·(1 - u) and w against t·(1 - u): no division, and
    // 1 - u is exact and never 0 (u < 1).
    double cut = cut(n, need) * MARGIN;
    int c = 0;
    for (int j = 0; j < n; j++) {
      candidate[c] = j;
      c += drawWeight[j] >= cut * (1 - draw[j]) ? 1 : 0; // without a branch: it is taken at random
    }
    for (int p = 0; p < c; p++) {
      int j = candidate[p];
      double u = draw[j];
      double key = logit[slot[from[j]]] - Math.log(-Math.log(u + 1e-300) + 1e-300);
      // Smallest first: order-preserving bits of -key high, the position low (positions follow
      // the index order of `from`, so ties break by index as they would over every key).
      keyed[p] = ((long) Pruning.sortable((float) -key) << 32) | p;
    }
    Pruning.selectSmallest(keyed, c, need);
    for (int q = 0; q < need; q++) {
      chosen[(int) keyed[q]] = true;
    }
    return merged(base, from, candidate, c, need);
  }

  /**
   * A value t with at least {@code need} lower bounds w·u / (1 - u) at or above it: an order
   * statistic of a sample of them, lowered until the count holds (0 always does).
   */
  private double cut(int n, int need) {
    int stride = Math.max(1, n / SUBSAMPLE);
    int m = 0;
    for (int j = 0; j < n && m < subsample.length; j += stride) {
      subsample[m++] = drawWeight[j] * draw[j] / (1 - draw[j]);
    }
    Arrays.sort(subsample, 0, m);
    // A little further down than the sample's own estimate of the need-th largest.
    for (long rank = (long) Math.ceil(1.2 * need * m / n) + 2; rank < m; rank *= 2) {
      double value = subsample[(int) (m - 1 - rank)];
      int count = 0;
      for (int j = 0; j < n && count < need; j++) {
        if (drawWeight[j] * draw[j] >= value * (1 - draw[j])) {
          count++;
        }
      }
      if (count >= need) {
        return value;
      }
    }
    return 0;
  }

  /** base merged with the chosen of from's positions {@code at[0, c)}, clearing the marks. */
  private int[] merged(int[] base, int[] from, int[] at, int c, int taken) {
    int[] out = new int[base.length + taken];
    int b = 0;
    int o = 0;
    for (int p = 0; p < c; p++) {
      if (!chosen[p]) {
        continue;
      }
      chosen[p] = false;
      int x = from[at[p]];
      // Galloping to x's place in base, whose run below x then moves in one copy: a mutation
      // inserts a few weights into many, a crossover about as many as it keeps.
      int end = b;
      int step = 1;
      while (end + step <= base.length && base[end + step - 1] < x) {
        end += step;
        step <<= 1;
      }
      int place = Arrays.binarySearch(base, end, Math.min(base.length, end + step - 1), x);
      place = place < 0 ? -place - 1 : place;
      System.arraycopy(base, b, out, o, place - b);
      o += place - b;
      b = place;
      out[o++] = x;
    }
    System.arraycopy(base, b, out, o, base.length - b);
    return out;
  }

  private int[] identity(int n) {
    for (int p = 0; p < n; p++) {
      candidate[p] = p;
    }
    return candidate;
  }
}
