package io.evoc.evaluator.scoring;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.graph.GraphExecutor;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.protocol.model.OnnxModel;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The {@code distill} repair: fine-tunes the surviving weights of the prunable layers so that the
 * student's softmax matches the teacher's on the calibration inputs (no labels), with DJL's
 * autograd and Adam through the same executor that scores. The mask is fixed: gradients and
 * weights are multiplied by it after every step, so zeros stay zero.
 */
public final class Distillation {
  private static final int TEACHER_CHUNK = 1000;

  private Distillation() {}

  /**
   * @param zeroed per weight name, the entries that must stay zero
   * @return the mean KL over the last epoch's batches
   */
  public static double run(OnnxModel model, ParameterTable student, Map<String, boolean[]> zeroed, HostTensor calibration,
      Device device, int epochs, int batchSize, float learningRate, long seed) {
    String inputName = model.inputs().get(0).name();
    String outputName = model.outputs().get(0).name();
    OutputKind kind = OutputKind.detect(model);
    int n = (int) calibration.shape()[0];
    double lastEpoch = Double.NaN;
    try (NDManager manager = NDManager.newBaseManager(device, "PyTorch");
        GraphExecutor executor = GraphExecutor.create(model, student, device);
        GraphExecutor teacher = GraphExecutor.create(model, ParameterTable.of(model), device)) {
      NDArray input = manager.create(calibration.data(), new Shape(calibration.shape()));
      NDArray target = teacherTargets(teacher, input, inputName, outputName, kind, manager);
      Map<String, NDArray> weights = new LinkedHashMap<>();
      Map<String, NDArray> masks = new HashMap<>();
      zeroed.forEach((name, z) -> {
        NDArray mask = manager.create(LeastSquaresRefit.survivors(z), new Shape(student.shape(name)));
        NDArray w = manager.create(student.entry(name).values(), new Shape(student.shape(name))).mul(mask);
        w.setRequiresGradient(true);
        weights.put(name, w);
        masks.put(name, mask);
      });
      Optimizer adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed(learningRate)).build();
      SplittableRandom random = new SplittableRandom(seed);
      for (int epoch = 0; epoch < epochs; epoch++) {
        int[] order = shuffled(n, random);
        double sum = 0;
        int batches = 0;
        for (int from = 0; from < n; from += batchSize) {
          int count = Math.min(batchSize, n - from);
          try (NDManager scope = manager.newSubManager()) {
            NDArray idx = scope.create(java.util.Arrays.copyOfRange(order, from, from + count));
            NDArray x = input.get(new NDIndex("{}", idx));
            NDArray t = target.get(new NDIndex("{}", idx));
            x.attach(scope);
            t.attach(scope);
            Map<String, NDArray> feeds = new HashMap<>(weights);
            feeds.put(inputName, x);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
              NDArray out = executor.run(feeds, List.of(outputName), scope).get(outputName);
              NDArray loss = Divergence.klLoss(t, Divergence.logProbabilities(out, kind));
              sum += loss.getFloat();
              gc.backward(loss);
            }
            weights.forEach((name, w) -> {
              NDArray grad = w.getGradient().mul(masks.get(name));
              grad.attach(scope);
              adam.update(name, w, grad);
              w.muli(masks.get(name));
            });
            batches++;
          }
          weights.values().forEach(w -> w.getGradient().subi(w.getGradient()));
        }
        lastEpoch = sum / batches;
      }
      weights.forEach((name, w) -> student.set(name, w.toFloatArray()));
    }
    return lastEpoch;
  }

  /** The teacher's log-probabilities, computed in chunks: all calibration activations at once can take gigabytes. */
  private static NDArray teacherTargets(GraphExecutor teacher, NDArray input, String inputName, String outputName,
      OutputKind kind, NDManager manager) {
    long n = input.getShape().get(0);
    ai.djl.ndarray.NDList parts = new ai.djl.ndarray.NDList();
    try (NDManager scope = manager.newSubManager()) {
      for (long from = 0; from < n; from += TEACHER_CHUNK) {
        NDArray x = input.get(new NDIndex("{}:{}", from, Math.min(n, from + TEACHER_CHUNK)));
        x.attach(scope);
        parts.add(Divergence.logProbabilities(teacher.run(Map.of(inputName, x), List.of(outputName), scope)
            .get(outputName), kind));
      }
      NDArray all = ai.djl.ndarray.NDArrays.concat(parts, 0);
      all.attach(manager);
      return all;
    }
  }

  private static int[] shuffled(int n, SplittableRandom random) {
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }
}
