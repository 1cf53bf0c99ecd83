package io.evoc.evaluator.scoring;

import io.evoc.evaluator.graph.ParameterTable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Scores the whole student with some layers' weights replaced (quantized or shared values): a
 * forward pass on the scoring batch per point, which is what finalization evaluates. In process
 * ({@link #local}) or by a cluster's evaluators; either way the same scores, bit for bit, since
 * both run the same forward pass on the same batch.
 */
public interface StudentScoring {
  /** A point's divergence and top-1 agreement with the teacher, and the student's top-1 class per sample. */
  record Point(float divergence, float agreement, int[] top1) {}

  /** @param replaced weight names to their new values; the others keep the student's */
  default Point score(Map<String, float[]> replaced) {
    return scoreAll(List.of(replaced)).get(0);
  }

  /** Several points at once, in order: a cluster spreads them over its evaluators. */
  List<Point> scoreAll(List<Map<String, float[]>> points);

  /** Scores on {@code scorer}, whose student is {@code student}: each point set, scored, and undone. */
  static StudentScoring local(CandidateScorer scorer, ParameterTable student) {
    return points -> {
      List<Point> out = new ArrayList<>(points.size());
      for (Map<String, float[]> p : points) {
        out.add(student.with(p, scorer::scorePoint));
      }
      return out;
    };
  }
}
