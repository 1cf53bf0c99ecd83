package io.evoc.evaluator.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.withinPercentage;

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

  /**
   * Gemm (weight [out, in]), MatMul (weight [in, out]) and Conv (LeNet-5's second, one of 4 groups)
   * alike; a second refit from the same student, with the teacher's outputs kept, the same bits.
   */
  @ParameterizedTest
  @ValueSource(strings = {"models/fashion-mlp.onnx:1", "fixtures/matmul-mlp.onnx:1", "models/fashion-lenet5.onnx:1",
      "fixtures/grouped-cnn.onnx:2"})
  void refitLowersDivergenceAndKeepsZerosZero(String fileAndLayer) {
    String[] parts = fileAndLayer.split(":");
    OnnxModel model = OnnxModel.read(EXAMPLES.resolve(parts[0]));
    HostTensor calibration = RandomInputs.of(model, 10, 5).values().iterator().next();
    ParameterTable student = ParameterTable.of(model);
    try (CandidateScorer scorer = new CandidateScorer(model, student, Device.cpu(), calibration, Metric.KL)) {
      Layer layer = scorer.layers().get(Integer.parseInt(parts[1]));
      boolean[] zeroed = prune(student, layer, 0.6, 9);
      float[] w = student.get(layer.weight());
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
      // The teacher's layer outputs are kept for the next refit on the same inputs (the refits
      // after each commit): a second refit from the same student gives the first one's bits.
      student.set(layer.weight(), w);
      LeastSquaresRefit.refit(scorer, layer, zeroed, calibration, 50);
      assertThat(student.get(layer.weight())).containsExactly(refit);
    }
  }

  /**
   * A Conv layer's output is its patches times the weight's rows, plus the bias, group by group:
   * LeNet-5's first layer (padding 2) and second (none), a Keras export's (stride 2, asymmetric
   * padding), a depthwise layer (8 groups, 2 outputs each, stride 2) and one of 4 groups.
   */
  @ParameterizedTest
  @ValueSource(strings = {"models/fashion-lenet5.onnx:0", "models/fashion-lenet5.onnx:1", "fixtures/keras-style.onnx:0",
      "fixtures/grouped-cnn.onnx:1", "fixtures/grouped-cnn.onnx:2"})
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
          calibration, 0, scope);
      long groups = conv.groups();
      long out = layer.shape()[0] / groups;
      NDArray w = scope.create(scorer.weights(layer), new Shape(groups, out, conv.width()));
      NDArray y = conv.outputs(a[1]).reshape(groups, -1, out);
      NDArray patches = conv.rows(scorer, a[0], conv.identity(scope), scope).reshape(groups, -1, conv.width());
      NDArray product = patches.matMul(w.transpose(0, 2, 1));
      // What remains is the bias, the same in every row.
      NDArray rest = y.sub(product);
      assertThat(rest.sub(rest.get(":, 0:1")).abs().max().getFloat()).isLessThan(1e-4f);
      assertThat(y.getShape().get(1)).isGreaterThan(3);
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
        boolean[] zeroed = prune(student, layer, 0.5, 2);
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
   * shorter): the same normal equations, so the same refit as in one part. LeNet-5's first layer
   * (28×28 positions) and a grouped layer's (7×7, 4 groups).
   */
  @ParameterizedTest
  @ValueSource(strings = {"models/fashion-lenet5.onnx:0:784", "fixtures/grouped-cnn.onnx:2:49"})
  void convPatchesInPartsGiveTheSameRefit(String fileLayerPositions) {
    String[] parts = fileLayerPositions.split(":");
    OnnxModel model = OnnxModel.read(EXAMPLES.resolve(parts[0]));
    HostTensor calibration = RandomInputs.of(model, 40, 6).values().iterator().next();
    float[][] refits = new float[2][];
    boolean[] zeroed = null;
    float[] original = null;
    for (int v = 0; v < 2; v++) {
      ParameterTable student = ParameterTable.of(model);
      try (CandidateScorer scorer = new CandidateScorer(model, student, Device.cpu(), calibration, Metric.KL)) {
        Layer layer = scorer.layers().get(Integer.parseInt(parts[1]));
        original = student.get(layer.weight());
        long perInput = Long.parseLong(parts[2]) * layer.size() / layer.shape()[0] * ConvPatches.of(model, layer).groups();
        zeroed = prune(student, layer, 0.4, 5);
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

  /**
   * A grouped Conv is a one-group Conv whose weight is zero outside each group's block: refit with
   * those zeros pruned, the one-group layer solves the same regressions (and the same ridge, from
   * the same diagonal), so it must give the grouped refit's weights and leave the layer's output
   * as far from the teacher's.
   */
  @org.junit.jupiter.api.Test
  void groupedRefitIsTheRefitOfItsBlockDiagonalLayer() {
    OnnxModel grouped = OnnxModel.read(EXAMPLES.resolve("fixtures/grouped-cnn.onnx"));
    HostTensor calibration = RandomInputs.of(grouped, 20, 4).values().iterator().next();
    Layer layer;
    try (CandidateScorer scorer = new CandidateScorer(grouped, ParameterTable.of(grouped), Device.cpu(), calibration,
        Metric.KL)) {
      layer = scorer.layers().get(2);
    }
    long[] shape = layer.shape(); // [16, 4, 3, 3] in 4 groups
    int groups = ConvPatches.of(grouped, layer).groups();
    int outs = (int) shape[0];
    int perGroupIn = (int) shape[1];
    int kernel = (int) (shape[2] * shape[3]);
    int wideRow = groups * perGroupIn * kernel;
    float[] weight = grouped.floats(layer.weight());
    float[] wide = new float[outs * wideRow];
    boolean[] wideZeroed = new boolean[wide.length];
    java.util.Arrays.fill(wideZeroed, true);
    boolean[] zeroed = new boolean[weight.length];
    for (int i : CandidateScorerTest.candidates(layer, 1, 0.4, 5).get(0)) {
      zeroed[i] = true;
    }
    for (int i = 0; i < weight.length; i++) {
      int wi = wideIndex(i, outs / groups, perGroupIn, kernel, wideRow);
      wide[wi] = weight[i];
      wideZeroed[wi] = zeroed[i];
    }
    OnnxModel oneGroup = oneGroup(grouped, layer, new long[] {outs, groups * perGroupIn, shape[2], shape[3]}, wide);
    Refit narrow = refitLayer(grouped, 2, zeroed, calibration);
    Refit wideRefit = refitLayer(oneGroup, 2, wideZeroed, calibration);
    assertThat(narrow.before()).isCloseTo(wideRefit.before(), withinPercentage(0.01));
    assertThat(narrow.after()).isLessThan(narrow.before() / 2);
    assertThat(narrow.after()).isCloseTo(wideRefit.after(), withinPercentage(0.1));
    double diff = 0;
    double norm = 0;
    for (int i = 0; i < weight.length; i++) {
      float expected = wideRefit.weights()[wideIndex(i, outs / groups, perGroupIn, kernel, wideRow)];
      diff += Math.pow(narrow.weights()[i] - expected, 2);
      norm += Math.pow(expected, 2);
    }
    // Float32 sums in another order: equal up to rounding once conjugate gradients have converged.
    assertThat(Math.sqrt(diff / norm)).isLessThan(1e-5);
  }

  /** Zeroes a random {@code fraction} of the layer's weights in the student; the entries zeroed. */
  private static boolean[] prune(ParameterTable student, Layer layer, double fraction, long seed) {
    boolean[] zeroed = new boolean[(int) layer.size()];
    float[] w = student.get(layer.weight());
    for (int i : CandidateScorerTest.candidates(layer, 1, fraction, seed).get(0)) {
      zeroed[i] = true;
      w[i] = 0;
    }
    student.set(layer.weight(), w);
    return zeroed;
  }

  /** Where entry i of a grouped weight [M, C/g, k] sits in its one-group weight [M, C, k]. */
  private static int wideIndex(int i, int outsPerGroup, int perGroupIn, int kernel, int wideRow) {
    int row = i / (perGroupIn * kernel);
    int within = i % (perGroupIn * kernel);
    return row * wideRow + row / outsPerGroup * perGroupIn * kernel + within;
  }

  /** The model with the layer's node made one-group and its weight replaced. */
  private static OnnxModel oneGroup(OnnxModel model, Layer layer, long[] dims, float[] weight) {
    io.evoc.protocol.onnx.ModelProto.Builder proto = model.proto().toBuilder();
    io.evoc.protocol.onnx.GraphProto.Builder graph = proto.getGraphBuilder();
    for (io.evoc.protocol.onnx.NodeProto.Builder node : graph.getNodeBuilderList()) {
      if (node.getOutput(0).equals(layer.output())) {
        node.getAttributeBuilderList().stream().filter(a -> a.getName().equals("group")).forEach(a -> a.setI(1));
      }
    }
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      if (graph.getInitializer(i).getName().equals(layer.weight())) {
        graph.setInitializer(i, io.evoc.protocol.model.TensorData.floatTensor(layer.weight(), dims, weight));
      }
    }
    return OnnxModel.of(proto.build(), "one-group");
  }

  /**
   * The squared distance of layer {@code index}'s output from the teacher's, with {@code zeroed}
   * pruned, before and after a refit.
   */
  private static Refit refitLayer(OnnxModel model, int index, boolean[] zeroed, HostTensor calibration) {
    ParameterTable student = ParameterTable.of(model);
    try (CandidateScorer scorer = new CandidateScorer(model, student, Device.cpu(), calibration, Metric.KL)) {
      Layer layer = scorer.layers().get(index);
      float[] w = student.get(layer.weight());
      for (int i = 0; i < w.length; i++) {
        w[i] = zeroed[i] ? 0 : w[i];
      }
      student.set(layer.weight(), w);
      float before = outputError(scorer, layer, calibration);
      LeastSquaresRefit.refit(scorer, layer, zeroed, calibration, 300);
      return new Refit(before, outputError(scorer, layer, calibration), student.get(layer.weight()));
    }
  }

  private record Refit(float before, float after, float[] weights) {}

  private static float outputError(CandidateScorer scorer, Layer layer, HostTensor inputs) {
    try (NDManager scope = scorer.manager().newSubManager()) {
      NDArray[] a = scorer.layerActivations(layer, scope.create(inputs.data(), new Shape(inputs.shape())), inputs, 0,
          scope);
      return a[1].sub(a[2]).square().sum().getFloat();
    }
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
