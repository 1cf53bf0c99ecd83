package io.evoc.evaluator.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import io.evoc.evaluator.data.DataLoader;
import io.evoc.evaluator.data.DataSet;
import io.evoc.evaluator.data.ModelInput;
import io.evoc.evaluator.data.Preprocessing;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.protocol.container.QuantizedTensor;
import io.evoc.protocol.model.OnnxModel;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DistillationTest {
  private static final Path EXAMPLES = Path.of(System.getProperty("evoc.repo.root", ".."), "examples");

  /**
   * Tuning codebooks moves only the levels: every weight keeps its level (and pruned ones stay
   * zero), and the student gets closer to the teacher.
   */
  @Test
  void codebookTuningMovesLevelsAndLowersTheDivergence() {
    OnnxModel model = OnnxModel.read(EXAMPLES.resolve("models/fashion-mlp.onnx"));
    HostTensor calibration = calibration(model);
    ParameterTable student = ParameterTable.of(model);
    Map<String, QuantizedTensor> tensors = new LinkedHashMap<>();
    for (String name : new String[] {"fc1.weight", "fc2.weight"}) {
      QuantizedTensor q = twoLevels(name, student.shape(name), student.get(name));
      tensors.put(name, q);
      student.set(name, q.values());
    }
    try (CandidateScorer scorer = new CandidateScorer(model, student, Device.cpu(), calibration, Metric.KL)) {
      float before = scorer.scoreStudent().divergence()[0];
      Map<String, float[]> tuned = Distillation.tuneCodebooks(model, student, tensors, calibration, Device.cpu(), 3, 25,
          1e-3f, 1);
      // The table is left alone: the caller decides whether to keep the tuned levels.
      assertThat(student.get("fc1.weight")).isEqualTo(tensors.get("fc1.weight").values());
      for (Map.Entry<String, QuantizedTensor> e : tensors.entrySet()) {
        QuantizedTensor q = e.getValue();
        float[] levels = tuned.get(e.getKey());
        assertThat(levels).hasSameSizeAs(q.codebook()).isNotEqualTo(q.codebook());
        student.set(e.getKey(), new QuantizedTensor(q.name(), q.shape(), levels, q.index()).values());
      }
      assertThat(scorer.scoreStudent().divergence()[0]).isLessThan(before);
    }
  }

  /**
   * The tuned levels are the same bits in every run, on any thread, also for a codebook two tensors
   * share (the artifact records them). libtorch's backward of a gather once summed the levels'
   * gradients in an order that varied between runs in one JVM.
   */
  @Test
  void codebookTuningRepeatsBitForBit() throws Exception {
    OnnxModel model = OnnxModel.read(EXAMPLES.resolve("models/fashion-mlp.onnx"));
    HostTensor calibration = calibration(model);
    ParameterTable student = ParameterTable.of(model);
    Map<String, QuantizedTensor> tensors = new LinkedHashMap<>();
    float[] shared = null;
    for (String name : new String[] {"fc1.weight", "fc2.weight", "fc3.weight"}) {
      QuantizedTensor q = twoLevels(name, student.shape(name), student.get(name));
      shared = shared == null ? q.codebook() : shared;
      q = new QuantizedTensor(q.name(), q.shape(), shared.clone(), q.index());
      tensors.put(name, q);
      student.set(name, q.values());
    }
    java.util.List<Map<String, float[]>> runs = new java.util.ArrayList<>();
    java.util.concurrent.Callable<Map<String, float[]>> tune = () -> Distillation.tuneCodebooks(model, student,
        tensors, calibration, Device.cpu(), 2, 25, 1e-3f, 1);
    runs.add(tune.call());
    java.util.concurrent.FutureTask<Map<String, float[]>> other = new java.util.concurrent.FutureTask<>(tune);
    new Thread(other).start();
    runs.add(other.get());
    runs.add(tune.call());
    for (Map<String, float[]> run : runs) {
      for (String name : tensors.keySet()) {
        assertThat(run.get(name)).as(name).isEqualTo(runs.get(0).get(name)).isEqualTo(runs.get(0).get("fc1.weight"));
      }
    }
  }

  /**
   * On a thread other than the one that started the engine (the server's job worker), where
   * PyTorch's grad mode starts on: distillation still runs (it once failed there with "a leaf
   * Variable that requires grad is being used in an in-place operation").
   */
  @Test
  void distillationRunsOnAFreshThread() throws Exception {
    OnnxModel model = OnnxModel.read(EXAMPLES.resolve("models/fashion-mlp.onnx"));
    HostTensor calibration = calibration(model);
    ParameterTable student = ParameterTable.of(model);
    Map<String, boolean[]> masks = new LinkedHashMap<>();
    masks.put("fc1.weight", new boolean[student.get("fc1.weight").length]);
    java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
    Thread worker = new Thread(() -> {
      try {
        ai.djl.pytorch.jni.JniUtils.setGradMode(true); // as a new thread finds it
        Distillation.run(model, student, masks, calibration, Device.cpu(), 1, 50, 1e-4f, 1);
      } catch (Throwable t) {
        failure.set(t);
      }
    });
    worker.start();
    worker.join();
    assertThat(failure.get()).isNull();
  }

  /** The first 100 test images, as the model takes them. */
  private static HostTensor calibration(OnnxModel model) {
    DataSet raw = DataLoader.load(EXAMPLES.resolve("data/fashion-test-100.npz").toString(), 100);
    return Preprocessing.DEFAULT.apply(ModelInput.fit(raw, model.inputs().get(0)), model.inputs().get(0)).batch();
  }

  /** Half the weights pruned (the smaller), the rest at the mean of their sign's magnitudes. */
  private static QuantizedTensor twoLevels(String name, long[] shape, float[] w) {
    float[] abs = w.clone();
    for (int i = 0; i < abs.length; i++) {
      abs[i] = Math.abs(abs[i]);
    }
    float[] sorted = abs.clone();
    Arrays.sort(sorted);
    float cut = sorted[sorted.length / 2];
    double mean = 0;
    int n = 0;
    for (float a : abs) {
      if (a > cut) {
        mean += a;
        n++;
      }
    }
    float level = (float) (mean / n);
    int[] index = new int[w.length];
    for (int i = 0; i < w.length; i++) {
      index[i] = abs[i] <= cut ? QuantizedTensor.PRUNED : w[i] < 0 ? 0 : 1;
    }
    return new QuantizedTensor(name, shape, new float[] {-level, level}, index);
  }
}
