package io.evoc.coordinator.quantize;

/** The ways a layer's surviving weights can be given 2^bits levels. */
public enum Quantizer {
  /** Evenly spaced levels symmetric about zero, clipped where that lowers the error. */
  UNIFORM_SYMMETRIC,
  /** Evenly spaced levels spanning the weights' range. */
  UNIFORM_ASYMMETRIC,
  /** Optimal placement: Lloyd-Max (1-D k-means) on the values. */
  LLOYD_MAX,
  /** Lloyd-Max weighted by each weight's effect on the output (the divergence's curvature). */
  LLOYD_MAX_WEIGHTED;

  /**
   * @param values the layer's surviving weights
   * @param effect per value, its effect on the output (non-negative), for the weighted kinds
   */
  public Codebook codebook(float[] values, float[] effect, int bits) {
    return switch (this) {
      case UNIFORM_SYMMETRIC -> Quantizers.uniformSymmetric(values, null, bits);
      case UNIFORM_ASYMMETRIC -> Quantizers.uniformAsymmetric(values, bits);
      case LLOYD_MAX -> Quantizers.lloydMax(values, null, 1 << bits);
      case LLOYD_MAX_WEIGHTED -> Quantizers.lloydMax(values, effect, 1 << bits);
    };
  }

  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
  }
}
