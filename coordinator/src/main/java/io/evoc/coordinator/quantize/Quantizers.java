package io.evoc.coordinator.quantize;

import java.util.Arrays;

/**
 * Codebooks for a layer's surviving weights: uniform (symmetric or asymmetric) and optimal-level
 * (Lloyd-Max: 1-D k-means, optionally weighted by each weight's effect on the output, e.g. the
 * curvature). Deterministic: no random initialization.
 */
public final class Quantizers {
  /** Lloyd iterations at most; each is k binary searches over prefix sums, not a pass over the weights. */
  private static final int LLOYD_ITERATIONS = 300;
  /** Golden-section steps of the symmetric clipping search. */
  private static final int CLIP_STEPS = 40;

  private Quantizers() {}

  /**
   * 2^bits levels ±(i + ½)·Δ around 0, with the clipping c = 2^(bits−1)·Δ that minimizes the
   * weighted squared error (clipping a few outliers buys resolution for the many).
   */
  public static Codebook uniformSymmetric(float[] values, float[] weights, int bits) {
    checkBits(bits);
    double max = 0;
    for (float v : values) {
      max = Math.max(max, Math.abs(v));
    }
    if (max == 0) {
      return new Codebook(new float[] {0f});
    }
    int half = 1 << (bits - 1);
    double lo = max / (4 * half);
    double hi = max;
    double phi = (Math.sqrt(5) - 1) / 2;
    for (int step = 0; step < CLIP_STEPS; step++) {
      double a = hi - phi * (hi - lo);
      double b = lo + phi * (hi - lo);
      if (symmetric(a, half).weightedError(values, weights) <= symmetric(b, half).weightedError(values, weights)) {
        hi = b;
      } else {
        lo = a;
      }
    }
    return symmetric((lo + hi) / 2, half);
  }

  /** 2^bits evenly spaced levels spanning the values' range: the cell centres of [min, max]. */
  public static Codebook uniformAsymmetric(float[] values, int bits) {
    checkBits(bits);
    float min = Float.POSITIVE_INFINITY;
    float max = Float.NEGATIVE_INFINITY;
    for (float v : values) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    if (!(min < max)) {
      return new Codebook(new float[] {values.length == 0 ? 0f : min});
    }
    int n = 1 << bits;
    double low = min;
    double width = ((double) max - min) / n;
    return new Codebook(distinct(n, i -> (float) (low + (i + 0.5) * width)));
  }

  /**
   * Lloyd-Max: at most {@code levels} levels minimizing Σ weight·(value − level)², from weighted
   * quantiles, alternating cell boundaries at midpoints and levels at weighted cell means until
   * nothing moves. Fewer levels come back when the values hold fewer distinct ones.
   *
   * @param weights per value, non-negative; null for all 1
   */
  public static Codebook lloydMax(float[] values, float[] weights, int levels) {
    if (levels < 1) {
      throw new IllegalArgumentException("levels must be >= 1, got " + levels);
    }
    int n = values.length;
    if (n == 0) {
      return new Codebook(new float[] {0f});
    }
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Float.compare(values[a], values[b]));
    float[] v = new float[n];
    double[] w = new double[n + 1]; // prefix sums of weight
    double[] wv = new double[n + 1]; // and of weight·value
    for (int j = 0; j < n; j++) {
      v[j] = values[order[j]];
      double weight = weights == null ? 1 : Math.max(0, weights[order[j]]) + 1e-12;
      w[j + 1] = w[j] + weight;
      wv[j + 1] = wv[j] + weight * v[j];
    }
    int k = Math.min(levels, distinctCount(v));
    double[] level = new double[k];
    for (int c = 0; c < k; c++) {
      // The weighted median of the c-th of k equal-weight slices.
      int at = Math.min(n - 1, lowerBound(w, w[n] * (c + 0.5) / k) - 1);
      level[c] = v[Math.max(0, at)];
    }
    int[] cut = new int[k + 1];
    for (int it = 0; it < LLOYD_ITERATIONS; it++) {
      Arrays.sort(level);
      cut[0] = 0;
      cut[k] = n;
      for (int c = 1; c < k; c++) {
        cut[c] = upperBound(v, (level[c - 1] + level[c]) / 2);
      }
      boolean moved = false;
      for (int c = 0; c < k; c++) {
        double mass = w[cut[c + 1]] - w[cut[c]];
        if (mass > 0) {
          double mean = (wv[cut[c + 1]] - wv[cut[c]]) / mass;
          moved |= mean != level[c];
          level[c] = mean;
        }
      }
      if (!moved) {
        break;
      }
    }
    return new Codebook(distinct(k, c -> (float) level[c]));
  }

  /** No rounding at all: every distinct value is a level (a lossless codebook). */
  public static Codebook exact(float[] values) {
    return values.length == 0 ? new Codebook(new float[] {0f}) : new Codebook(distinct(values.length, i -> values[i]));
  }

  private static Codebook symmetric(double clip, int half) {
    double delta = clip / half;
    return new Codebook(distinct(2 * half, i -> (float) ((i - half + 0.5) * delta)));
  }

  /** The levels, sorted, with duplicates (float rounding, empty cells) dropped. */
  private static float[] distinct(int n, java.util.function.IntToDoubleFunction level) {
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = (float) level.applyAsDouble(i);
    }
    Arrays.sort(out);
    int m = 0;
    for (int i = 0; i < n; i++) {
      if (m == 0 || out[i] != out[m - 1]) {
        out[m++] = out[i];
      }
    }
    return Arrays.copyOf(out, m);
  }

  private static int distinctCount(float[] sorted) {
    int count = 0;
    for (int i = 0; i < sorted.length; i++) {
      if (i == 0 || sorted[i] != sorted[i - 1]) {
        count++;
      }
    }
    return count;
  }

  /** First index whose prefix sum reaches {@code target}. */
  private static int lowerBound(double[] prefix, double target) {
    int lo = 1;
    int hi = prefix.length - 1;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (prefix[mid] < target) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** Number of sorted values <= x. */
  private static int upperBound(float[] sorted, double x) {
    int lo = 0;
    int hi = sorted.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (sorted[mid] <= x) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  private static void checkBits(int bits) {
    if (bits < 1 || bits > 8) {
      throw new IllegalArgumentException("bits must be 1..8, got " + bits);
    }
  }
}
