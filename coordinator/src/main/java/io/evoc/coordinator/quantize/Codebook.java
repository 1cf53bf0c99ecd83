package io.evoc.coordinator.quantize;

import io.evoc.protocol.container.Grids;
import java.util.Arrays;

/**
 * The values a layer's surviving weights are rounded to, ascending. Zeros are the sparsity mask's
 * business, so a codebook need not hold 0. Each weight is stored as the index of its level.
 */
public record Codebook(float[] levels) {
  public Codebook {
    if (levels.length == 0) {
      throw new IllegalArgumentException("a codebook needs at least one level");
    }
    levels = levels.clone();
    for (int i = 1; i < levels.length; i++) {
      if (!(levels[i - 1] < levels[i])) {
        throw new IllegalArgumentException("levels must ascend strictly: " + Arrays.toString(levels));
      }
    }
  }

  public int size() {
    return levels.length;
  }

  /** Index of the nearest level (ties to the lower). */
  public int index(float value) {
    return Grids.nearest(levels, value);
  }

  public int[] indices(float[] values) {
    int[] out = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      out[i] = index(values[i]);
    }
    return out;
  }

  /** The values each weight is replaced by. */
  public float[] dequantize(int[] indices) {
    float[] out = new float[indices.length];
    for (int i = 0; i < indices.length; i++) {
      out[i] = levels[indices[i]];
    }
    return out;
  }

  /** Σ weight · (value − its level)², the error the quantizers minimize. */
  public double weightedError(float[] values, float[] weights) {
    double sum = 0;
    for (int i = 0; i < values.length; i++) {
      double d = values[i] - levels[index(values[i])];
      sum += (weights == null ? 1 : weights[i]) * d * d;
    }
    return sum;
  }
}
