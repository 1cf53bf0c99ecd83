package io.evoc.coordinator.cli;

import java.util.Arrays;
import java.util.List;

/** The medians that benchmarks report over repeated rounds. */
final class Medians {
  private Medians() {}

  /** The middle value; with an even count the mean of the middle two (the upper one alone flattered). */
  static double of(double... values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int mid = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  }

  static double of(List<Double> values) {
    return of(values.stream().mapToDouble(Double::doubleValue).toArray());
  }
}
