package io.evoc.coordinator.quantize;

import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.scoring.CandidateScorer;
import io.evoc.evaluator.scoring.Layer;
import io.evoc.protocol.container.Grids;
import io.evoc.protocol.container.QuantizedTensor;
import io.evoc.protocol.container.TensorCoder;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The float parameters outside the prunable layers (biases, mostly), each put on a uniform grid of
 * the fewest bits that keep the student's divergence, so that the container codes them instead of
 * holding them as float32 in its graph. On LeNet-5 the biases were a tenth of a 27x container.
 * A tensor stays exact where no grid codes smaller than its float32 values (a handful of values)
 * or none keeps the divergence.
 */
public final class GridParameters {
  static final int MIN_BITS = 2;
  static final int MAX_BITS = 12;
  /**
   * All grids together may raise the divergence by this fraction of the student's own, plus
   * {@link #ABSOLUTE_TOLERANCE} times the metric's scale (the student may be the teacher, at 0).
   */
  static final double RELATIVE_TOLERANCE = 0.01;
  static final double ABSOLUTE_TOLERANCE = 1e-5;

  private GridParameters() {}

  /**
   * Puts the parameters on their grids in {@code student}; the tensors to code, in the student's
   * order. Larger tensors choose first: they have the most bits to save.
   */
  public static List<QuantizedTensor> quantize(CandidateScorer scorer, ParameterTable student) {
    Set<String> layers = scorer.layers().stream().map(Layer::weight).collect(Collectors.toSet());
    List<String> order = new ArrayList<>(student.names());
    List<String> names = order.stream().filter(n -> !layers.contains(n) && finite(student.get(n)))
        .sorted(Comparator.comparingInt((String n) -> -student.get(n).length).thenComparingInt(order::indexOf))
        .toList();
    float base = scorer.scoreStudent().divergence()[0];
    double allowed = base + RELATIVE_TOLERANCE * Math.abs(base) + ABSOLUTE_TOLERANCE * scorer.referenceScale();
    List<QuantizedTensor> out = new ArrayList<>();
    for (String name : names) {
      float[] values = student.get(name);
      for (int bits = MIN_BITS; bits <= MAX_BITS; bits++) {
        QuantizedTensor t = Grids.onGrid(name, student.shape(name), values, bits);
        if (TensorCoder.encode(t).getSerializedSize() >= 4L * values.length) {
          break; // more bits only cost more
        }
        float divergence = student.with(Map.of(name, t.values()), scorer::scoreStudent).divergence()[0];
        if (divergence <= allowed) {
          student.set(name, t.values());
          out.add(t);
          break;
        }
      }
    }
    out.sort(Comparator.comparingInt(t -> order.indexOf(t.name())));
    return out;
  }

  private static boolean finite(float[] values) {
    for (float v : values) {
      if (!Float.isFinite(v)) {
        return false;
      }
    }
    return values.length > 0;
  }

  /** How a tensor was coded, as reports show it: "grid/6". */
  public static String label(QuantizedTensor t) {
    return "grid/" + Integer.numberOfTrailingZeros(t.grid().getLevels());
  }
}
