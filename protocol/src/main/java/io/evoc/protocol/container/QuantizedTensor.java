package io.evoc.protocol.container;

import java.util.Arrays;

/**
 * A weight tensor as finalization leaves it: a codebook of shared values and, per entry in
 * row-major order, an index into it or {@link #PRUNED} (the entry is zero).
 *
 * @param grid where the codebook is a uniform grid's levels, the grid (stored instead of the
 *     levels); null otherwise
 */
public record QuantizedTensor(String name, long[] shape, float[] codebook, int[] index, UniformGrid grid) {
  public static final int PRUNED = -1;

  public QuantizedTensor(String name, long[] shape, float[] codebook, int[] index) {
    this(name, shape, codebook, index, null);
  }

  public QuantizedTensor {
    if (grid != null && !Arrays.equals(codebook, Grids.levels(grid))) {
      throw new IllegalArgumentException(name + ": the codebook is not the grid's levels");
    }
    long entries = 1;
    for (long d : shape) {
      if (d < 0) {
        throw new IllegalArgumentException(name + ": negative dimension in " + Arrays.toString(shape));
      }
      entries *= d;
    }
    if (entries != index.length) {
      throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " has " + entries
          + " entries, index has " + index.length);
    }
    for (int i : index) {
      if (i != PRUNED && (i < 0 || i >= codebook.length)) {
        throw new IllegalArgumentException(name + ": index " + i + " outside a codebook of " + codebook.length);
      }
    }
  }

  /** The tensor's values: codebook entries, zeros where pruned. */
  public float[] values() {
    float[] out = new float[index.length];
    for (int i = 0; i < out.length; i++) {
      out[i] = index[i] == PRUNED ? 0f : codebook[index[i]];
    }
    return out;
  }

  public int survivors() {
    int n = 0;
    for (int i : index) {
      n += i == PRUNED ? 0 : 1;
    }
    return n;
  }
}
