package io.evoc.evaluator.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import io.evoc.evaluator.data.DataLoader;
import io.evoc.evaluator.data.DataSet;
import io.evoc.evaluator.data.ModelInput;
import io.evoc.evaluator.data.Preprocessing;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.engine.RandomInputs;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.protocol.model.OnnxModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * At the teacher the divergence is at its minimum, so the Gauss-Newton curvature is its exact
 * Hessian there and 0.5·h·w² must predict what zeroing a single small weight costs, as measured by
 * the scorer. Checked on Gemm and Conv layers, for KL and MSE, with exact and sampled probes.
 */
class CurvatureTest {
  private static final Path EXAMPLES = Path.of(System.getProperty("evoc.repo.root", ".."), "examples");

  @ParameterizedTest
  @CsvSource({
      "models/fashion-mlp.onnx, fc2.weight, KL",
      "models/fashion-mlp.onnx, fc1.weight, MSE",
      "models/fashion-lenet5.onnx, conv2.weight, KL",
      "models/fashion-lenet5.onnx, fc1.weight, KL",
      // 12 softmax rows of 10 classes per sample: sampled probes.
      "fixtures/multi-softmax.onnx, w1, KL",
      "fixtures/multi-softmax.onnx, w2, KL",
  })
  void predictsTheCostOfZeroingOneWeight(String file, String weight, Metric metric) {
    try (CandidateScorer scorer = scorer(file, metric)) {
      Layer layer = scorer.layer(weight);
      float[] h = scorer.curvature(layer, 1);
      float[] w = scorer.weights(layer);
      float least = Float.POSITIVE_INFINITY;
      for (float v : h) {
        least = Math.min(least, v);
      }
      assertThat(least).as("a Gauss-Newton diagonal is never negative").isGreaterThanOrEqualTo(0f);
      // Weights from the top tenth by magnitude: small enough for the quadratic model to hold
      // (ReLU kinks break it for the largest), large enough to stand above float noise, unless
      // what they multiply is dead on this batch, which the curvature must know too.
      int[] picked = ranked(w, w.length / 10, 100);
      List<int[]> sets = new ArrayList<>();
      for (int i : picked) {
        sets.add(new int[] {i});
      }
      float[] actual = scorer.score(layer, sets).divergence();
      List<Double> ratios = new ArrayList<>();
      for (int j = 0; j < picked.length; j++) {
        double predicted = 0.5 * h[picked[j]] * w[picked[j]] * w[picked[j]];
        if (actual[j] > 2e-6) {
          ratios.add(predicted / actual[j]);
        } else if (Math.abs(actual[j]) < 1e-7) {
          assertThat(predicted).as("cost of a weight on a dead input").isLessThan(1e-7);
        }
      }
      double[] ratio = ratios.stream().mapToDouble(Double::doubleValue).sorted().toArray();
      assertThat(ratio.length).as("weights with a measurable cost").isGreaterThan(20);
      assertThat(ratio[ratio.length / 2]).as("median predicted / actual").isBetween(0.8, 1.25);
      assertThat(ratio[ratio.length / 10]).as("10th percentile").isGreaterThan(0.5);
      assertThat(ratio[ratio.length - 1 - ratio.length / 10]).as("90th percentile").isLessThan(2.5);
    }
  }

  /**
   * The samples go through in chunks (see Curvature.unitCurvature); each sample's gradient is its
   * own, so chunks of 30 (and a last one of 10) must give the bits of one pass, or the search's
   * results would depend on the chunk size. So must the probes' sharing of a forward pass.
   */
  @ParameterizedTest
  @CsvSource({
      "models/fashion-lenet5.onnx, conv1.weight, KL",
      "models/fashion-lenet5.onnx, conv2.weight, KL",
      "models/fashion-lenet5.onnx, fc1.weight, KL",
      "models/fashion-mlp.onnx, fc1.weight, MSE",
      "fixtures/multi-softmax.onnx, w1, KL",
  })
  void chunksAndSharedPassesGiveTheBitsOfOnePass(String file, String weight, Metric metric) {
    try (CandidateScorer scorer = scorer(file, metric)) {
      Layer layer = scorer.layer(weight);
      long perSample = scorer.studentActivations(layer)[1].size() / scorer.samples();
      float[] whole = Curvature.diagonal(scorer, layer, 3, Long.MAX_VALUE, Curvature.EXACT_PROBES);
      float[] chunked = Curvature.diagonal(scorer, layer, 3, 30 * perSample, Curvature.EXACT_PROBES);
      assertThat(chunked).as(file + " " + weight).containsExactly(whole);
      assertThat(whole).as("not all zero").isNotEqualTo(new float[whole.length]);
      // The probes share a forward pass, each backward keeping the graph for the next and each
      // gradient cleared after it; one pass per probe must give the same bits.
      float[] passPerProbe = Curvature.diagonal(scorer, layer, 3, 30 * perSample, 1);
      assertThat(passPerProbe).as(file + " " + weight + ", one pass per probe").containsExactly(chunked);
    }
  }

  /** Every layer of every exporter's graph: one finite, non-negative value per weight, not all zero. */
  @ParameterizedTest
  @CsvSource({
      "fixtures/torch-cnn.onnx, 8",
      "fixtures/torch-view-reshape.onnx, 8",
      "fixtures/keras-style.onnx, 8",
      "fixtures/grouped-cnn.onnx, 8",
      "fixtures/matmul-mlp.onnx, 10",
      "fixtures/fixed-batch1-nhwc.onnx, 1",
      // Autograd through attention, Erf, Pow, Sqrt and LayerNormalization.
      "fixtures/torch-vit.onnx, 8",
      "fixtures/torch-vit-opset17.onnx, 8",
  })
  void coversEveryLayerOfExportedGraphs(String file, int batch) {
    OnnxModel model = OnnxModel.read(EXAMPLES.resolve(file));
    HostTensor calibration = RandomInputs.of(model, batch, 7).values().iterator().next();
    try (CandidateScorer scorer = new CandidateScorer(model, ParameterTable.of(model), Device.cpu(), calibration,
        Metric.detect(model))) {
      for (Layer layer : scorer.layers()) {
        float[] h = scorer.curvature(layer, 1);
        assertThat(h).as(file + " " + layer.weight()).hasSize((int) layer.size());
        double sum = 0;
        for (float v : h) {
          assertThat(Float.isFinite(v) && v >= 0).as(file + " " + layer.weight() + " " + v).isTrue();
          sum += v;
        }
        assertThat(sum).as(file + " " + layer.weight()).isPositive();
      }
    }
  }

  /** A scorer of an example file's model on the 100 test images, its student the model's weights. */
  static CandidateScorer scorer(String file, Metric metric) {
    OnnxModel model = OnnxModel.read(EXAMPLES.resolve(file));
    return new CandidateScorer(model, ParameterTable.of(model), Device.cpu(), calibration(model), metric);
  }

  static HostTensor calibration(OnnxModel model) {
    DataSet raw = DataLoader.load(EXAMPLES.resolve("data/fashion-test-100.npz").toString(), 100);
    return Preprocessing.DEFAULT.apply(ModelInput.fit(raw, model.inputs().get(0)), model.inputs().get(0)).batch();
  }

  /** The n weights from position {@code from} on, in order of decreasing magnitude. */
  private static int[] ranked(float[] w, int from, int n) {
    Integer[] order = new Integer[w.length];
    for (int i = 0; i < w.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Float.compare(Math.abs(w[b]), Math.abs(w[a])));
    int[] out = new int[n];
    for (int j = 0; j < n; j++) {
      out[j] = order[from + j];
    }
    Arrays.sort(out);
    return out;
  }
}
