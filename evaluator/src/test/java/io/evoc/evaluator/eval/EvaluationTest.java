package io.evoc.evaluator.eval;

import static org.assertj.core.api.Assertions.assertThat;

import io.evoc.evaluator.data.DataLoader;
import io.evoc.evaluator.data.DataSet;
import io.evoc.evaluator.data.ModelInput;
import io.evoc.evaluator.data.Preprocessing;
import io.evoc.evaluator.engine.Engines;
import io.evoc.evaluator.engine.InferenceEngine;
import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.model.TensorSpec;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class EvaluationTest {
  private static final Path ROOT = Path.of(System.getProperty("evoc.repo.root", ".."));

  @Test
  void fixedBatchOfTenIgnoresThePaddingOfTheLastCall() {
    // matmul-mlp takes exactly 10 samples per call; 25 samples means a last call padded by 5.
    OnnxModel model = OnnxModel.read(ROOT.resolve("examples/fixtures/matmul-mlp.onnx"));
    TensorSpec input = model.inputs().get(0);
    DataSet data = Preprocessing.DEFAULT.apply(
        ModelInput.fit(DataLoader.load("/usr/share/datasets/fashion-mnist:test", 25), input), input);
    try (InferenceEngine djl = Engines.open(model, "djl", "cpu", null);
        InferenceEngine ort = Engines.open(model, "ort", "cpu", null)) {
      Evaluation a = Evaluation.run(djl, input, data, 1000);
      Evaluation b = Evaluation.run(ort, input, data, 1000);
      assertThat(a.samples()).isEqualTo(25);
      assertThat(a.predictions()).containsExactly(b.predictions());
      // The last five alone, fed as the first five of a fresh padded call, must predict the same.
      DataSet lastFive = new DataSet("tail", java.util.Arrays.copyOfRange(data.values(), 20 * 784, 25 * 784),
          data.sampleShape(), java.util.Arrays.copyOfRange(data.labels(), 20, 25));
      assertThat(Evaluation.run(djl, input, lastFive, 1000).predictions())
          .containsExactly(java.util.Arrays.copyOfRange(a.predictions(), 20, 25));
    }
  }

  @Test
  void argmaxSkipsNaN() {
    assertThat(Evaluation.argmax(new float[] {Float.NaN, 1f, 2f}, 0, 3)).isEqualTo(2);
    assertThat(Evaluation.argmax(new float[] {5f, 9f, 9f}, 0, 3)).isEqualTo(1);
    assertThat(Evaluation.argmax(new float[] {0f, 0f, 1f, 7f, 2f}, 2, 3)).isEqualTo(1);
  }
}
