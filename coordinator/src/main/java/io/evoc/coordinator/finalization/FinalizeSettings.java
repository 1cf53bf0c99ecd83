package io.evoc.coordinator.finalization;

import io.evoc.coordinator.search.Ranges;

/**
 * How the surviving weights are quantized and which Pareto point is kept.
 *
 * @param maxAccuracyDrop points of calibration accuracy (against its labels, or top-1 agreement
 *     with the teacher when it has none) the chosen point may lose; NaN when {@code maxDivergence}
 *     rules
 * @param maxDivergence calibration divergence the chosen point may reach; NaN when unused
 * @param population,generations the NSGA-II searches'
 * @param codebookEpochs epochs of codebook tuning by distillation after the bit search (0: none)
 */
public record FinalizeSettings(Quantization quantization, double maxAccuracyDrop, double maxDivergence,
    int population, int generations, int codebookEpochs, long seed) {

  public enum Quantization {
    /** Survivors kept exactly: the codebook holds every distinct value. */
    LOSSLESS,
    /** Per-layer bit search, then NSGA-II over every layer's (quantizer, bits). */
    BITS,
    /** One codebook of uniform bins shared by all layers, NSGA-II over its size, then bin merging. */
    WEIGHT_SHARING
  }

  public FinalizeSettings {
    if (Double.isNaN(maxAccuracyDrop) == Double.isNaN(maxDivergence)) {
      throw new IllegalArgumentException("give one of --max-accuracy-drop and --max-divergence");
    }
    if (!Double.isNaN(maxAccuracyDrop) && !(maxAccuracyDrop >= 0 && maxAccuracyDrop <= 100)) {
      throw new IllegalArgumentException("--max-accuracy-drop " + maxAccuracyDrop + ": expected points in [0, 100]");
    }
    if (!Double.isNaN(maxDivergence) && !(maxDivergence > 0)) {
      throw new IllegalArgumentException("--max-divergence " + maxDivergence + ": expected a positive number");
    }
    Ranges.check("--pareto-population", population, 4, 10_000);
    Ranges.check("--pareto-generations", generations, 0, 10_000);
    Ranges.check("--codebook-epochs", codebookEpochs, 0, 1_000);
  }
}
