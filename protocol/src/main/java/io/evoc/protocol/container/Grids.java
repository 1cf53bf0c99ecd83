package io.evoc.protocol.container;

import io.evoc.protocol.codec.Rans;

/**
 * Uniform grids ({@link UniformGrid}): a uniform quantizer's levels stored as two numbers. Encoder
 * and decoder both take the levels from {@link #levels}, so a grid means the same bits everywhere.
 */
public final class Grids {
  /** Levels a grid may have: as many symbols as an index stream codes. */
  public static final int MAX_LEVELS = Rans.MAX_SYMBOLS;

  private Grids() {}

  /** 2^bits evenly spaced levels, the first at {@code min}, the last at {@code max} (up to rounding). */
  public static UniformGrid spanning(float min, float max, int bits) {
    if (bits < 0 || (1L << bits) > MAX_LEVELS) {
      throw new IllegalArgumentException("a grid has 1 to " + MAX_LEVELS + " levels; 2^" + bits + " asked");
    }
    if (!(min < max)) {
      return UniformGrid.newBuilder().setOffset(min).setStep(0).setLevels(1).build();
    }
    int levels = 1 << bits;
    return UniformGrid.newBuilder().setOffset(min).setStep((float) (((double) max - min) / (levels - 1)))
        .setLevels(levels).build();
  }

  /** The grid's levels, offset + i * step in float32; refuses a grid no encoder writes. */
  public static float[] levels(UniformGrid g) {
    if (g.getLevels() < 1 || g.getLevels() > MAX_LEVELS) {
      throw new IllegalArgumentException("grid of " + Integer.toUnsignedString(g.getLevels()) + " levels (1 to "
          + MAX_LEVELS + ")");
    }
    if (!Float.isFinite(g.getOffset()) || !Float.isFinite(g.getStep()) || g.getStep() < 0
        || g.getStep() == 0 && g.getLevels() > 1) {
      throw new IllegalArgumentException("grid offset " + g.getOffset() + ", step " + g.getStep());
    }
    float[] levels = new float[g.getLevels()];
    for (int i = 0; i < levels.length; i++) {
      levels[i] = g.getOffset() + i * g.getStep();
    }
    return levels;
  }

  /**
   * Index of the level nearest to {@code value} among ascending levels (ties to the lower), by
   * binary search on the cell boundaries. A boundary is taken in double: the float midpoint of two
   * neighbouring floats rounds onto one of them, which sent a value equal to a level to its neighbour.
   */
  public static int nearest(float[] levels, float value) {
    int lo = 0;
    int hi = levels.length - 1;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (value > 0.5 * ((double) levels[mid] + levels[mid + 1])) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  /** Finite values rounded to the nearest of 2^bits levels spanning them. */
  public static QuantizedTensor onGrid(String name, long[] shape, float[] values, int bits) {
    float min = Float.POSITIVE_INFINITY;
    float max = Float.NEGATIVE_INFINITY;
    for (float v : values) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    if (!Float.isFinite(min) || !Float.isFinite(max)) {
      throw new IllegalArgumentException(name + ": a grid spans finite values only");
    }
    UniformGrid grid = spanning(min, max, bits);
    float[] levels = levels(grid);
    int[] index = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      index[i] = nearest(levels, values[i]);
    }
    return new QuantizedTensor(name, shape, levels, index, grid);
  }
}
