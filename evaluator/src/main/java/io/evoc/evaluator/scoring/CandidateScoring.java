package io.evoc.evaluator.scoring;

import io.evoc.evaluator.scoring.CandidateScorer.Scores;
import java.util.List;

/**
 * Scores a population of one layer's candidates: in process ({@link CandidateScorer}) or by the
 * evaluators of a cluster. Either way the scores are the same, bit for bit, since both score the
 * same stacks of candidates ({@link CandidateScorer#stackSize}).
 */
public interface CandidateScoring {
  /**
   * @param candidates index lists into the layer's flat weight, sorted
   * @param values per weight of the layer, the value a member takes; null: zero
   */
  Scores score(Layer layer, List<int[]> candidates, float[] values);

  /**
   * Populations of {@code layer} of the current student come next: a cluster tells its evaluators
   * to fetch the student and build their caches now, while the caller still estimates its prior,
   * rather than when the first population waits. In process there is nothing to do.
   */
  default void prepare(Layer layer) {
  }
}
