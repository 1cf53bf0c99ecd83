package io.evoc.evaluator.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.model.TensorSpec;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
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
    Map<String, HostTensor> inputs = randomInputs(model, 3, 42);
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

  /** Seeded inputs of each declared shape, {@code batch} for symbolic dimensions. */
  static Map<String, HostTensor> randomInputs(OnnxModel model, int batch, long seed) {
    Random random = new Random(seed);
    Map<String, HostTensor> inputs = new HashMap<>();
    for (TensorSpec spec : model.inputs()) {
      long[] dims = spec.dims();
      int n = 1;
      for (int i = 0; i < dims.length; i++) {
        dims[i] = dims[i] < 0 ? batch : dims[i];
        n *= (int) dims[i];
      }
      float[] data = new float[n];
      for (int i = 0; i < n; i++) {
        data[i] = (float) random.nextGaussian();
      }
      inputs.put(spec.name(), new HostTensor(data, dims));
    }
    return inputs;
  }

  static double maxAbsDiff(float[] a, float[] b) {
    double max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs((double) a[i] - b[i]));
    }
    return max;
  }
}
