package io.evoc.evaluator.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import io.evoc.evaluator.graph.ParameterTable;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The gradient of the divergence at a student that has moved from the teacher (a fifth of one
 * layer zeroed) must match central differences of the scorer's own divergence, on Gemm and Conv
 * layers, for KL and MSE.
 */
class GradientTest {
  @ParameterizedTest
  @CsvSource({
      "models/fashion-mlp.onnx, fc1.weight, fc2.weight, KL",
      "models/fashion-mlp.onnx, fc1.weight, fc1.weight, MSE",
      "models/fashion-lenet5.onnx, fc1.weight, conv2.weight, KL",
  })
  void matchesCentralDifferences(String file, String pruned, String weight, Metric metric) {
    try (CandidateScorer scorer = CurvatureTest.scorer(file, metric)) {
      ParameterTable student = scorer.student();
      float[] p = student.get(pruned);
      for (int i : CandidateScorerTest.candidates(scorer.layer(pruned), 1, 0.2, 3).get(0)) {
        p[i] = 0;
      }
      student.set(pruned, p);
      Layer layer = scorer.layer(weight);
      float[] g = scorer.gradient(layer);
      float[] w = scorer.weights(layer);
      // The ten surviving weights with the steepest gradient: well above float noise.
      List<Integer> steepest = new ArrayList<>();
      for (int i = 0; i < g.length; i++) {
        if (w[i] != 0) {
          steepest.add(i);
        }
      }
      steepest.sort((a, b) -> Float.compare(Math.abs(g[b]), Math.abs(g[a])));
      float eps = 1e-2f;
      for (int i : steepest.subList(0, 10)) {
        float[] up = w.clone();
        float[] down = w.clone();
        up[i] += eps;
        down[i] -= eps;
        float dUp = scorer.score(layer, List.of(new int[] {i}), up).divergence()[0];
        float dDown = scorer.score(layer, List.of(new int[] {i}), down).divergence()[0];
        float numeric = (dUp - dDown) / (2 * eps);
        assertThat(g[i]).as(file + " " + weight + "[" + i + "]")
            .isCloseTo(numeric, org.assertj.core.api.Assertions.within(0.05f * Math.abs(numeric) + 1e-5f));
      }
    }
  }
}
