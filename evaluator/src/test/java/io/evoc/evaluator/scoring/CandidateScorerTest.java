package io.evoc.evaluator.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.Device;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.engine.RandomInputs;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.protocol.model.OnnxModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CandidateScorerTest {
  private static final Path EXAMPLES = Path.of(System.getProperty("evoc.repo.root", ".."), "examples");

  /** Incremental scoring must give what a full forward pass per candidate gives, on every layer. */
  @ParameterizedTest
  @CsvSource({
      "models/fashion-mlp.onnx, 64, true",
      "models/fashion-lenet5.onnx, 32, true",
      "fixtures/torch-cnn.onnx, 8, true",
      "fixtures/torch-view-reshape.onnx, 8, true",
      "fixtures/keras-style.onnx, 8, true",
      "fixtures/grouped-cnn.onnx, 8, true",
      // A fixed batch only declared: the graph itself still stacks.
      "fixtures/matmul-mlp.onnx, 10, true",
      // Reshape to [1, 392] after the convolution: its candidates cannot stack, each runs alone.
      "fixtures/fixed-batch1-nhwc.onnx, 1, false",
  })
  void incrementalScoresEqualFullForwardPasses(String file, int batch, boolean firstStacks) {
    OnnxModel model = OnnxModel.read(EXAMPLES.resolve(file));
    HostTensor calibration = RandomInputs.of(model, batch, 7).values().iterator().next();
    ParameterTable student = ParameterTable.of(model);
    try (CandidateScorer scorer = new CandidateScorer(model, student, Device.cpu(), calibration, Metric.detect(model))) {
      assertThat(scorer.layers()).isNotEmpty();
      assertThat(scorer.scoreStudent().divergence()[0]).isCloseTo(0f, within(1e-5f));
      // Commit one candidate first, so the cache is of a student that differs from the teacher.
      Layer first = scorer.layers().get(0);
      float[] w = student.get(first.weight());
      for (int i : candidates(first, 1, 0.2, 3).get(0)) {
        w[i] = 0;
      }
      student.set(first.weight(), w);
      for (Layer layer : scorer.layers()) {
        List<int[]> candidates = candidates(layer, 5, 0.05, layer.weight().hashCode());
        CandidateScorer.Scores fast = scorer.score(layer, candidates);
        CandidateScorer.Scores full = scorer.scoreFull(layer, candidates);
        if (layer == first) {
          assertThat(scorer.stacked(layer)).as(layer.weight()).isEqualTo(firstStacks);
        }
        for (int p = 0; p < candidates.size(); p++) {
          float expected = full.divergence()[p];
          assertThat(fast.divergence()[p]).as(file + " " + layer.weight() + " #" + p)
              .isCloseTo(expected, within(1e-6f + 1e-3f * Math.abs(expected)));
          assertThat(fast.divergence()[p]).isPositive();
        }
      }
      // Same inputs, same bits. (Not across groupings: a candidate scored alone can differ in the
      // last bits from the same candidate scored in a stack, as libtorch's kernels vary with size.)
      Layer layer = scorer.layers().get(0);
      List<int[]> again = candidates(layer, 3, 0.1, 11);
      assertThat(scorer.score(layer, again).divergence()).containsExactly(scorer.score(layer, again).divergence());
      // Restoring half the committed zeros to the teacher's values, incrementally, is what setting
      // them and running the student gives.
      float[] teacher = ParameterTable.of(model).get(first.weight());
      int[] zeroed = candidates(first, 1, 0.2, 3).get(0);
      int[] half = java.util.Arrays.copyOf(zeroed, Math.max(1, zeroed.length / 2));
      float restored = scorer.score(first, List.of(half), teacher).divergence()[0];
      for (int i : half) {
        w[i] = teacher[i];
      }
      student.set(first.weight(), w);
      float expected = scorer.scoreStudent().divergence()[0];
      assertThat(restored).as(file + " restore").isCloseTo(expected, within(1e-6f + 1e-3f * Math.abs(expected)));
    }
  }

  /** Sorted random index sets, each a fraction of the layer. */
  static List<int[]> candidates(Layer layer, int count, double fraction, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    int size = (int) layer.size();
    int k = Math.max(1, (int) (size * fraction));
    List<int[]> out = new ArrayList<>();
    for (int p = 0; p < count; p++) {
      out.add(random.ints(0, size).distinct().limit(k).sorted().toArray());
    }
    return out;
  }
}
