package io.evoc.evaluator.scoring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.evoc.protocol.model.OnnxModel;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DivergenceTest {
  private static final int N = 6;
  private static final int C = 5;

  @Test
  void klAndAgreementMatchAPlainComputation() {
    float[] teacher = random(N * C, 1);
    float[] other = random(N * C, 2);
    float[] students = new float[2 * N * C];
    System.arraycopy(teacher, 0, students, 0, N * C);
    System.arraycopy(other, 0, students, N * C, N * C);
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      NDArray t = Divergence.logProbabilities(m.create(teacher, new Shape(N, C)), OutputKind.LOGITS);
      NDArray s = Divergence.logProbabilities(m.create(students, new Shape(2 * N, C)), OutputKind.LOGITS);
      float[] kl = Divergence.kl(t, s, 2);
      float[] agree = Divergence.agreement(t, s, 2);
      assertThat(kl[0]).isCloseTo(0f, within(1e-6f));
      assertThat(agree[0]).isEqualTo(1f);
      assertThat((double) kl[1]).isCloseTo(hostKl(teacher, other), within(1e-5));
      assertThat((double) agree[1]).isEqualTo(hostAgreement(teacher, other));
    }
  }

  @Test
  void everyOutputKindGivesTheSameLogProbabilities() {
    float[] logits = random(N * C, 3);
    try (NDManager m = NDManager.newBaseManager("PyTorch")) {
      NDArray x = m.create(logits, new Shape(N, C));
      NDArray fromLogits = Divergence.logProbabilities(x, OutputKind.LOGITS);
      NDArray fromProbabilities = Divergence.logProbabilities(x.softmax(-1), OutputKind.PROBABILITIES);
      NDArray fromLog = Divergence.logProbabilities(x.logSoftmax(-1), OutputKind.LOG_PROBABILITIES);
      assertThat(fromProbabilities.toFloatArray()).containsExactly(fromLogits.toFloatArray(), within(1e-5f));
      assertThat(fromLog.toFloatArray()).containsExactly(fromLogits.toFloatArray(), within(1e-6f));
      // A zero probability stays finite.
      for (float v : Divergence.logProbabilities(m.zeros(new Shape(1, 2)), OutputKind.PROBABILITIES).toFloatArray()) {
        assertThat(v).isFinite();
      }
    }
  }

  @Test
  void outputKindIsReadFromTheGraph() {
    Path examples = Path.of(System.getProperty("evoc.repo.root", ".."), "examples");
    assertThat(OutputKind.detect(OnnxModel.read(examples.resolve("models/fashion-mlp.onnx")))).isEqualTo(OutputKind.LOGITS);
    assertThat(OutputKind.detect(OnnxModel.read(examples.resolve("fixtures/torch-view-reshape.onnx")))).isEqualTo(OutputKind.PROBABILITIES);
    assertThat(OutputKind.detect(OnnxModel.read(examples.resolve("fixtures/matmul-mlp.onnx")))).isEqualTo(OutputKind.LOG_PROBABILITIES);
    assertThat(OutputKind.detect(OnnxModel.read(examples.resolve("fixtures/keras-style.onnx")))).isEqualTo(OutputKind.PROBABILITIES);
  }

  private static double hostKl(float[] teacher, float[] student) {
    double total = 0;
    for (int i = 0; i < N; i++) {
      double[] p = softmax(teacher, i);
      double[] q = softmax(student, i);
      for (int k = 0; k < C; k++) {
        total += p[k] * (Math.log(p[k]) - Math.log(q[k]));
      }
    }
    return total / N;
  }

  private static double hostAgreement(float[] teacher, float[] student) {
    int same = 0;
    for (int i = 0; i < N; i++) {
      same += argmax(teacher, i) == argmax(student, i) ? 1 : 0;
    }
    return (double) same / N;
  }

  private static double[] softmax(float[] v, int row) {
    double max = Double.NEGATIVE_INFINITY;
    for (int k = 0; k < C; k++) {
      max = Math.max(max, v[row * C + k]);
    }
    double[] e = new double[C];
    double sum = 0;
    for (int k = 0; k < C; k++) {
      e[k] = Math.exp(v[row * C + k] - max);
      sum += e[k];
    }
    for (int k = 0; k < C; k++) {
      e[k] /= sum;
    }
    return e;
  }

  private static int argmax(float[] v, int row) {
    int best = 0;
    for (int k = 1; k < C; k++) {
      if (v[row * C + k] > v[row * C + best]) {
        best = k;
      }
    }
    return best;
  }

  private static float[] random(int n, long seed) {
    Random r = new Random(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (2 * r.nextGaussian());
    }
    return v;
  }
}
