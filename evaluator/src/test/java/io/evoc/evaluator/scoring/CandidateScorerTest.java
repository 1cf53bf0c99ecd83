package io.evoc.evaluator.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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
      // Transformers: MatMul and Gemm layers, attention, GELU, LayerNorm spelt out and as one op.
      "fixtures/torch-vit.onnx, 8, true",
      "fixtures/torch-vit-opset17.onnx, 8, true",
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

  /**
   * A layer's forward pass starts from the deepest layer input that no weight change has made stale.
   * After every layer has been visited and the second layer's weights change, the first two start
   * from their own inputs, the later ones from the second's (until visited again); every score and
   * curvature must be the bits a fresh scorer gives, which starts from the model's input.
   */
  @ParameterizedTest
  @CsvSource({"models/fashion-mlp.onnx", "models/fashion-lenet5.onnx", "fixtures/keras-style.onnx",
      "fixtures/grouped-cnn.onnx"})
  void keptLayerInputsGiveTheBitsOfAWholePass(String file) {
    OnnxModel model = OnnxModel.read(EXAMPLES.resolve(file));
    HostTensor calibration = RandomInputs.of(model, 16, 5).values().iterator().next();
    ParameterTable student = ParameterTable.of(model);
    try (CandidateScorer warm = new CandidateScorer(model, student, Device.cpu(), calibration, Metric.detect(model))) {
      List<Layer> layers = warm.layers();
      assertThat(layers.size()).isGreaterThanOrEqualTo(3);
      layers.forEach(warm::stacked);
      Layer second = layers.get(1);
      float[] w = student.get(second.weight());
      for (int i : candidates(second, 1, 0.3, 2).get(0)) {
        w[i] = 0;
      }
      student.set(second.weight(), w);
      for (int i = 0; i < layers.size(); i++) {
        assertThat(warm.forwardStart(layers.get(i))).isEqualTo(layers.get(Math.min(i, 1)).input());
      }
      for (int i = 0; i < layers.size(); i++) {
        Layer layer = layers.get(i);
        List<int[]> sets = candidates(layer, 3, 0.05, i);
        float[] scores = warm.score(layer, sets).divergence();
        float[] curvature = warm.curvature(layer, 1);
        try (CandidateScorer fresh = new CandidateScorer(model, student, Device.cpu(), calibration,
            Metric.detect(model))) {
          assertThat(fresh.forwardStart(layer)).isEqualTo(model.inputs().get(0).name());
          assertThat(scores).as(layer.weight()).containsExactly(fresh.score(layer, sets).divergence());
          assertThat(curvature).as(layer.weight()).containsExactly(fresh.curvature(layer, 1));
        }
      }
    }
  }

  /**
   * A graph that writes batch 1 into a Reshape target takes one sample at a time. The scorer runs a
   * copy whose target takes the batch from its input, so all samples go at once, candidates stack,
   * and every score is the mean of what the model gives each sample alone.
   */
  @org.junit.jupiter.api.Test
  void aGraphThatFixesItsBatchScoresAsItsSamplesOneByOne() {
    OnnxModel model = OnnxModel.read(EXAMPLES.resolve("fixtures/fixed-batch1-nhwc.onnx"));
    int n = 6;
    HostTensor calibration = images(n);
    ParameterTable student = ParameterTable.of(model);
    try (CandidateScorer all = new CandidateScorer(model, student, Device.cpu(), calibration, Metric.KL)) {
      assertThat(all.model()).isNotSameAs(model);
      assertThat(all.model().floats("conv_w")).containsExactly(model.floats("conv_w"));
      Layer conv = all.layer("conv_w");
      float[] w = student.get(conv.weight());
      for (int i : candidates(conv, 1, 0.2, 3).get(0)) {
        w[i] = 0;
      }
      student.set(conv.weight(), w);
      assertThat(all.stacked(conv)).isTrue();
      List<int[]> sets = candidates(all.layer("dense_w"), 3, 0.1, 5);
      float[] scores = all.score(all.layer("dense_w"), sets).divergence();
      float student0 = all.scoreStudent().divergence()[0];
      float[] mean = new float[sets.size() + 1];
      int row = calibration.rowLength();
      for (int i = 0; i < n; i++) {
        long[] shape = calibration.shape().clone();
        shape[0] = 1;
        HostTensor one = new HostTensor(java.util.Arrays.copyOfRange(calibration.data(), i * row, (i + 1) * row), shape);
        try (CandidateScorer alone = new CandidateScorer(model, student, Device.cpu(), one, Metric.KL)) {
          assertThat(alone.model()).isSameAs(model);
          float[] s = alone.score(alone.layer("dense_w"), sets).divergence();
          for (int c = 0; c < s.length; c++) {
            mean[c] += s[c] / n;
          }
          mean[sets.size()] += alone.scoreStudent().divergence()[0] / n;
        }
      }
      for (int c = 0; c < scores.length; c++) {
        assertThat(scores[c]).as("candidate %d", c).isCloseTo(mean[c], within(1e-4f * mean[c]));
        assertThat(scores[c]).isGreaterThan(student0);
      }
      assertThat(student0).isCloseTo(mean[sets.size()], within(1e-4f * student0)).isPositive();
    }
  }

  /** Where the batch cannot be freed (here the target's 0 means zero), a one-line error says why and what to do. */
  @org.junit.jupiter.api.Test
  void aGraphWhoseBatchStaysFixedIsRefusedNamingTheNode() {
    OnnxModel fixed = OnnxModel.read(EXAMPLES.resolve("fixtures/fixed-batch1-nhwc.onnx"));
    io.evoc.protocol.onnx.ModelProto.Builder proto = fixed.proto().toBuilder();
    proto.getOpsetImportBuilder(0).setVersion(14);
    for (io.evoc.protocol.onnx.NodeProto.Builder node : proto.getGraphBuilder().getNodeBuilderList()) {
      if (node.getOpType().equals("Reshape")) {
        node.addAttribute(io.evoc.protocol.onnx.AttributeProto.newBuilder().setName("allowzero")
            .setType(io.evoc.protocol.onnx.AttributeProto.AttributeType.INT).setI(1));
      }
    }
    OnnxModel model = OnnxModel.of(proto.build(), "fixed.onnx");
    HostTensor calibration = images(4);
    assertThatThrownBy(() -> new CandidateScorer(model, ParameterTable.of(model), Device.cpu(), calibration, Metric.KL))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("fixed.onnx: Reshape")
        .hasMessageContaining("running 4 samples at once; the model fixes its batch at 1")
        .hasMessageContaining("dynamic batch");
  }

  /** n random NHWC images [n, 28, 28, 1]: RandomInputs keeps the fixed batch the model declares. */
  private static HostTensor images(int n) {
    SplittableRandom random = new SplittableRandom(n);
    float[] data = new float[n * 28 * 28];
    for (int i = 0; i < data.length; i++) {
      data[i] = (float) random.nextDouble();
    }
    return new HostTensor(data, new long[] {n, 28, 28, 1});
  }

  @org.junit.jupiter.api.Test
  void aGraphTheExecutorCannotRunIsRefusedNamingTheFile() {
    OnnxModel model = OnnxModel.read(EXAMPLES.resolve("fixtures/unsupported-op.onnx"));
    HostTensor calibration = RandomInputs.of(model, 4, 3).values().iterator().next();
    assertThatThrownBy(() -> new CandidateScorer(model, ParameterTable.of(model), Device.cpu(), calibration, Metric.MSE))
        .hasMessageStartingWith(model.source() + ": Softsign")
        .hasMessageContaining("inspect-model");
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
