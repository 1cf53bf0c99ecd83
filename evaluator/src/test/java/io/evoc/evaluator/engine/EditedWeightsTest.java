package io.evoc.evaluator.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.protocol.model.OnnxModel;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Edits in a parameter table reach every engine reading it: the executor, ORT fed weights, and the fallback. */
class EditedWeightsTest {
  private static final Path FIXTURES = RepoFiles.root().resolve("examples/fixtures");

  @Test
  void executorAndOrtFedWeightsAgreeAfterAnEdit() {
    OnnxModel model = OnnxModel.read(FIXTURES.resolve("torch-cnn.onnx"));
    assertAgreeAfterEdit(model, "conv1.weight", "djl");
  }

  @Test
  void fallbackReadsEditsFromTheTable() {
    OnnxModel model = OnnxModel.read(FIXTURES.resolve("unsupported-op.onnx"));
    String weight = ParameterTable.of(model).names().iterator().next();
    assertAgreeAfterEdit(model, weight, "ort-fallback");
  }

  private static void assertAgreeAfterEdit(OnnxModel model, String weight, String expectedEngine) {
    ParameterTable table = ParameterTable.of(model);
    Map<String, HostTensor> inputs = RandomInputs.of(model, 4, 11);
    try (InferenceEngine fast = Engines.open(model, "djl", "cpu", table);
        InferenceEngine reference = Engines.open(model, "ort", "cpu", table);
        InferenceEngine original = Engines.open(model, "ort", "cpu", null)) {
      assertThat(fast.name()).isEqualTo(expectedEngine);
      String out = original.outputNames().get(0);
      float[] before = original.run(inputs).get(out).data();
      assertThat(ExecutorEqualityTest.maxAbsDiff(fast.run(inputs).get(out).data(), before)).isLessThanOrEqualTo(1e-4);

      float[] w = table.get(weight);
      for (int i = 0; i < w.length; i += 2) {
        w[i] = -w[i];
      }
      table.set(weight, w);
      float[] fastAfter = fast.run(inputs).get(out).data();
      float[] referenceAfter = reference.run(inputs).get(out).data();
      assertThat(ExecutorEqualityTest.maxAbsDiff(fastAfter, referenceAfter)).isLessThanOrEqualTo(1e-4);
      assertThat(ExecutorEqualityTest.maxAbsDiff(fastAfter, before)).isGreaterThan(1e-3);
    }
  }
}
