package io.evoc.evaluator.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.evoc.protocol.model.OnnxModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The fast executor computes what ONNX Runtime computes, on every model the project ships. */
class ExecutorEqualityTest {
  private static final double TOLERANCE = 1e-4;

  static List<Path> models() throws IOException {
    return RepoFiles.runnableModels();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void executorMatchesOnnxRuntime(Path file) {
    OnnxModel model = OnnxModel.read(file);
    Map<String, HostTensor> inputs = RandomInputs.of(model, 3, 42);
    try (InferenceEngine djl = Engines.open(model, "djl", "cpu", null);
        InferenceEngine ort = Engines.open(model, "ort", "cpu", null)) {
      // Only the fixture made for it may fall back; anything else must really run on the executor.
      boolean fallback = file.getFileName().toString().startsWith("unsupported-");
      assertThat(djl.name()).isEqualTo(fallback ? "ort-fallback" : "djl");
      Map<String, HostTensor> expected = ort.run(inputs);
      Map<String, HostTensor> actual = djl.run(inputs);
      assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
      for (String name : expected.keySet()) {
        HostTensor e = expected.get(name);
        HostTensor a = actual.get(name);
        assertThat(a.shape()).as("%s shape", name).containsExactly(e.shape());
        assertThat(maxAbsDiff(a.data(), e.data())).as("%s max |djl - ort|", name).isLessThanOrEqualTo(TOLERANCE);
      }
    }
  }

  @org.junit.jupiter.api.Test
  void unusedInitializerOfATypeTheExecutorDoesNotLoadStaysOnTheFastPath() {
    OnnxModel mlp = OnnxModel.read(RepoFiles.root().resolve("examples/fixtures/matmul-mlp.onnx"));
    io.evoc.protocol.onnx.TensorProto half = io.evoc.protocol.onnx.TensorProto.newBuilder()
        .setName("unused_half").setDataType(io.evoc.protocol.onnx.TensorProto.DataType.FLOAT16_VALUE)
        .addDims(2).addInt32Data(0x3c00).addInt32Data(0x4000).build();
    OnnxModel model = OnnxModel.of(mlp.proto().toBuilder()
        .setGraph(mlp.graph().toBuilder().addInitializer(half)).build(), "with-float16");
    try (InferenceEngine djl = Engines.open(model, "djl", "cpu", null)) {
      assertThat(djl.name()).isEqualTo("djl");
      assertThat(djl.run(RandomInputs.of(model, 10, 5))).isNotEmpty();
    }
  }

  static double maxAbsDiff(float[] a, float[] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs((double) a[i] - b[i]));
    }
    return max;
  }
}
