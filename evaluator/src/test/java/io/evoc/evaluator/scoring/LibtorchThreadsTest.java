package io.evoc.evaluator.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.engine.Numerics;
import io.evoc.evaluator.engine.RandomInputs;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.protocol.model.OnnxModel;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Scores must not depend on how many threads libtorch has, or hosts with more cores would reach
 * other results. Without {@link Numerics#PINNED} (the build sets it for the tests, as the launcher
 * does) MKL's GEMM sums in another order from four threads up and this fails.
 */
class LibtorchThreadsTest {
  private static final Path EXAMPLES = Path.of(System.getProperty("evoc.repo.root", ".."), "examples");

  @Test
  void scoresAreTheSameBitsAtOneAndEightThreads() {
    assertThat(Numerics.unpinned(System.getenv())).as("the test JVM's environment").isEmpty();
    OnnxModel model = OnnxModel.read(EXAMPLES.resolve("models/fashion-mlp.onnx"));
    HostTensor calibration = RandomInputs.of(model, 2000, 5).values().iterator().next();
    ai.djl.engine.Engine.getEngine("PyTorch"); // loads libtorch, which JniUtils calls into
    int before = JniUtils.getNumThreads();
    try {
      // A scorer each, so that the cached activations are computed at that thread count too.
      assertThat(scores(model, calibration, 8)).containsExactly(scores(model, calibration, 1));
    } finally {
      JniUtils.setNumThreads(before);
    }
  }

  /** Every layer's scores of the same candidates, in layer order. */
  private static float[] scores(OnnxModel model, HostTensor calibration, int threads) {
    JniUtils.setNumThreads(threads);
    float[] out = new float[0];
    try (CandidateScorer scorer = new CandidateScorer(model, ParameterTable.of(model), Device.cpu(), calibration,
        Metric.detect(model))) {
      for (Layer layer : scorer.layers()) {
        float[] s = scorer.score(layer, CandidateScorerTest.candidates(layer, 8, 0.3, 17)).divergence();
        out = concat(out, s);
      }
    }
    return out;
  }

  private static float[] concat(float[] a, float[] b) {
    float[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
