package io.evoc.coordinator.finalization;

import java.util.List;

/**
 * One point of a finalization's Pareto front, as reported.
 *
 * @param bytes coded bytes of the layers' positions, indices and codebooks
 * @param accuracyDrop points lost on the calibration samples that judge the budget (labels, or
 *     agreement with the teacher)
 * @param layers per layer, how it was quantized ("lloyd-max/3", "shared/17", "exact/2311")
 * @param tuned whether its codebooks were tuned by distillation after the search
 * @param testAccuracy filled in by the caller when it has test data; NaN otherwise
 */
public record FrontPoint(long bytes, double divergence, double agreement, double accuracyDrop, List<String> layers,
    boolean tuned, double testAccuracy) {
  public FrontPoint withTestAccuracy(double accuracy) {
    return new FrontPoint(bytes, divergence, agreement, accuracyDrop, layers, tuned, accuracy);
  }

  FrontPoint withAccuracyDrop(double points) {
    return new FrontPoint(bytes, divergence, agreement, points, layers, tuned, testAccuracy);
  }

  FrontPoint asTuned() {
    return new FrontPoint(bytes, divergence, agreement, accuracyDrop, layers, true, testAccuracy);
  }
}
