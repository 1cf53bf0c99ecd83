package io.evoc.evaluator.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.engine.RandomInputs;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.protocol.model.OnnxModel;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LeastSquaresRefitTest {
  private static final Path EXAMPLES = Path.of(System.getProperty("evoc.repo.root", ".."), "examples");

  /** Gemm (weight [out, in]), MatMul (weight [in, out]) and Conv (LeNet-5's second) layers alike. */
  @ParameterizedTest
  @ValueSource(strings = {"models/fashion-mlp.onnx", "fixtures/matmul-mlp.onnx", "models/fashion-lenet5.onnx"})
  void refitLowersDivergenceAndKeepsZerosZero(String file) {
    OnnxModel model = OnnxModel.read(EXAMPLES.resolve(file));
    HostTensor calibration = RandomInputs.of(model, 10, 5).values().iterator().next();
    ParameterTable student = ParameterTable.of(model);
    try (CandidateScorer scorer = new CandidateScorer(model, student, Device.cpu(), calibration, Metric.KL)) {
      Layer layer = scorer.layers().get(1);
      int[] pruned = CandidateScorerTest.candidates(layer, 1, 0.6, 9).get(0);
      boolean[] zeroed = new boolean[(int) layer.size()];
      float[] w = student.get(layer.weight());
      for (int i : pruned) {
        zeroed[i] = true;
        w[i] = 0;
      }
      student.set(layer.weight(), w);
      float before = scorer.scoreStudent().divergence()[0];
      LeastSquaresRefit.refit(scorer, layer, zeroed, calibration, 50);
      float after = scorer.scoreStudent().divergence()[0];
      assertThat(after).isLessThan(before * 0.8f);
      float[] refit = student.get(layer.weight());
      int changed = 0;
      for (int i = 0; i < refit.length; i++) {
        if (zeroed[i]) {
          assertThat(refit[i]).isZero();
        } else if (refit[i] != w[i]) {
          changed++;
        }
      }
      assertThat(changed).isGreaterThan(refit.length / 4);
      assertThat(LeastSquaresRefit.supports(scorer, scorer.layers().get(0))).isTrue();
    }
  }

  /**
   * A Conv layer's output is its patches times the weight's rows, plus the bias: LeNet-5's first
   * layer (padding 2) and second (none), and a Keras export's (stride 2, asymmetric padding).
   */
  @ParameterizedTest
  @ValueSource(strings = {"models/fashion-lenet5.onnx:0", "models/fashion-lenet5.onnx:1", "fixtures/keras-style.onnx:0"})
  void convPatchesReproduceTheLayer(String fileAndLayer) {
    String[] parts = fileAndLayer.split(":");
    OnnxModel model = OnnxModel.read(EXAMPLES.resolve(parts[0]));
    HostTensor calibration = RandomInputs.of(model, 3, 8).values().iterator().next();
    try (CandidateScorer scorer = new CandidateScorer(model, ParameterTable.of(model), Device.cpu(), calibration,
            Metric.KL);
        NDManager scope = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      Layer layer = scorer.layers().get(Integer.parseInt(parts[1]));
      assertThat(layer.opType()).isEqualTo("Conv");
      ConvPatches conv = ConvPatches.of(model, layer);
      NDArray[] a = scorer.layerActivations(layer, scope.create(calibration.data(), new Shape(calibration.shape())),
          scope);
      long out = layer.shape()[0];
      NDArray w = scope.create(scorer.weights(layer), new Shape(out, conv.width()));
      NDArray y = ConvPatches.channelsLast(a[1]);
      NDArray product = conv.rows(scorer, a[0], conv.identity(scope), scope).matMul(w.transpose());
      // What remains is the bias, the same in every row.
      NDArray rest = y.sub(product);
      assertThat(rest.sub(rest.get("0:1")).abs().max().getFloat()).isLessThan(1e-4f);
      assertThat(y.getShape().get(0)).isGreaterThan(3);
    }
  }

  /**
   * The normal equations are summed over chunks of inputs: the same samples repeated 6 times,
   * across chunk boundaries, scale both sides alike and must give the same refit as the samples once.
   */
  @org.junit.jupiter.api.Test
  void chunkedInputsGiveTheSameRefit() {
    OnnxModel model = OnnxModel.read(EXAMPLES.resolve("models/fashion-mlp.onnx"));
    HostTensor once = RandomInputs.of(model, 400, 3).values().iterator().next();
    int reps = 6;
    float[] repeated = new float[once.data().length * reps];
    for (int r = 0; r < reps; r++) {
      System.arraycopy(once.data(), 0, repeated, r * once.data().length, once.data().length);
    }
    long[] shape = once.shape().clone();
    shape[0] *= reps;
    float[][] refits = new float[2][];
    HostTensor[] inputs = {once, new HostTensor(repeated, shape)};
    for (int v = 0; v < 2; v++) {
      ParameterTable student = ParameterTable.of(model);
      try (CandidateScorer scorer = new CandidateScorer(model, student, Device.cpu(), once, Metric.KL)) {
        Layer layer = scorer.layers().get(2);
        boolean[] zeroed = new boolean[(int) layer.size()];
        float[] w = student.get(layer.weight());
        for (int i : CandidateScorerTest.candidates(layer, 1, 0.5, 2).get(0)) {
          zeroed[i] = true;
          w[i] = 0;
        }
        student.set(layer.weight(), w);
        LeastSquaresRefit.refit(scorer, layer, zeroed, inputs[v], 200);
        refits[v] = student.get(layer.weight());
      }
    }
    // Float32 sums in another order: equal up to rounding once conjugate gradients have converged.
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < refits[0].length; i++) {
      diff += Math.pow(refits[0][i] - refits[1][i], 2);
      norm += Math.pow(refits[0][i], 2);
    }
    assertThat(Math.sqrt(diff / norm)).isLessThan(1e-3);
  }

  /**
   * A Conv layer's patches are formed a few inputs at a time (here 7 per part, the last part
   * shorter): the same normal equations, so the same refit as in one part.
   */
  @org.junit.jupiter.api.Test
  void convPatchesInPartsGiveTheSameRefit() {
    OnnxModel model = OnnxModel.read(EXAMPLES.resolve("models/fashion-lenet5.onnx"));
    HostTensor calibration = RandomInputs.of(model, 40, 6).values().iterator().next();
    float[][] refits = new float[2][];
    boolean[] zeroed = null;
    float[] original = null;
    for (int v = 0; v < 2; v++) {
      ParameterTable student = ParameterTable.of(model);
      try (CandidateScorer scorer = new CandidateScorer(model, student, Device.cpu(), calibration, Metric.KL)) {
        Layer layer = scorer.layers().get(0);
        original = student.get(layer.weight());
        long perInput = 28 * 28 * layer.size() / layer.shape()[0];
        zeroed = new boolean[(int) layer.size()];
        float[] w = student.get(layer.weight());
        for (int i : CandidateScorerTest.candidates(layer, 1, 0.4, 5).get(0)) {
          zeroed[i] = true;
          w[i] = 0;
        }
        student.set(layer.weight(), w);
        LeastSquaresRefit.refit(scorer, layer, zeroed, calibration, 100, v == 0 ? Long.MAX_VALUE : 7 * perInput);
        refits[v] = student.get(layer.weight());
      }
    }
    double diff = 0;
    double norm = 0;
    int changed = 0;
    for (int i = 0; i < refits[0].length; i++) {
      diff += Math.pow(refits[0][i] - refits[1][i], 2);
      norm += Math.pow(refits[0][i], 2);
      changed += !zeroed[i] && refits[0][i] != original[i] ? 1 : 0;
    }
    assertThat(Math.sqrt(diff / norm)).isLessThan(1e-4);
    assertThat(changed).isGreaterThan(refits[0].length / 4);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2})
  void scoresDoNotDependOnThreadCount(int threads) {
    OnnxModel model = OnnxModel.read(EXAMPLES.resolve("models/fashion-mlp.onnx"));
    HostTensor calibration = RandomInputs.of(model, 50, 5).values().iterator().next();
    try (CandidateScorer one = new CandidateScorer(model, ParameterTable.of(model), Device.cpu(), calibration, Metric.KL)
            .threads(1);
        CandidateScorer many = new CandidateScorer(model, ParameterTable.of(model), Device.cpu(), calibration, Metric.KL)
            .threads(threads + 2)) {
      Layer layer = one.layers().get(0);
      List<int[]> candidates = CandidateScorerTest.candidates(layer, 9, 0.03, 4);
      assertThat(many.score(layer, candidates).divergence()).containsExactly(one.score(layer, candidates).divergence());
    }
  }
}
