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
import io.evoc.evaluator.engine.Engines;
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
 * weights are multiplied by it after every step, so zeros stay zero. The same loop fine-tunes
 * quantized layers' codebooks instead ({@link #tuneCodebooks}): each weight stays tied to its
 * level and the levels move, the gradient of a level summing those of its weights.
 */
public final class Distillation {
  private static final int TEACHER_CHUNK = 1000;

  private Distillation() {}

  /** What one weight tensor trains as: the tensor the executor is fed, built from its parameter. */
  private interface Trainable {
    NDArray parameter();

    /** The weight fed to the executor, built inside the gradient scope; what it derives dies with {@code scope}. */
    NDArray weight(NDManager scope);

    /** The parameter's gradient as Adam should see it. */
    NDArray gradient();

    /** After Adam's step. */
    void project();

    /** After a batch: the next one's gradient starts from zero. */
    void clearGradient();
  }

  /** Free weights, zeros held by the mask. */
  private record Masked(NDArray parameter, NDArray mask) implements Trainable {
    public NDArray weight(NDManager scope) {
      return parameter;
    }

    public NDArray gradient() {
      return parameter.getGradient().mul(mask);
    }

    public void project() {
      parameter.muli(mask);
    }

    public void clearGradient() {
      parameter.getGradient().subi(parameter.getGradient());
    }
  }

  /**
   * Codebook levels, each weight the level its index names (pruned entries zero). The weight is a
   * leaf of its own each step, built on the host, and the levels' gradient is summed from its
   * gradient on the host in index order: libtorch's backward of a gather accumulates in an order
   * that varied from run to run (the tuned levels, and so the artifact, differed in their last bit
   * between two runs in one JVM).
   */
  private static final class Tied implements Trainable {
    private final NDArray parameter;
    private final int[] index;
    private final float[] keep;
    private final Shape shape;
    private NDArray weight;

    Tied(NDArray parameter, int[] index, float[] keep, Shape shape) {
      this.parameter = parameter;
      this.index = index;
      this.keep = keep;
      this.shape = shape;
    }

    public NDArray parameter() {
      return parameter;
    }

    public NDArray weight(NDManager scope) {
      float[] levels = parameter.toFloatArray();
      float[] w = new float[index.length];
      for (int i = 0; i < w.length; i++) {
        w[i] = levels[index[i]] * keep[i];
      }
      weight = scope.create(w, shape);
      weight.setRequiresGradient(true);
      return weight;
    }

    public NDArray gradient() {
      float[] g = weight.getGradient().toFloatArray();
      double[] sum = new double[(int) parameter.size()];
      for (int i = 0; i < g.length; i++) {
        sum[index[i]] += keep[i] * g[i];
      }
      float[] out = new float[sum.length];
      for (int l = 0; l < out.length; l++) {
        out[l] = (float) sum[l];
      }
      return weight.getManager().create(out);
    }

    public void project() {}

    /** The weight is a fresh leaf each step; the levels themselves carry no gradient. */
    public void clearGradient() {}
  }

  /**
   * @param zeroed per weight name, the entries that must stay zero
   * @return the mean KL over the last epoch's batches
   */
  public static double run(OnnxModel model, ParameterTable student, Map<String, boolean[]> zeroed, HostTensor calibration,
      Device device, int epochs, int batchSize, float learningRate, long seed) {
    try (NDManager manager = NDManager.newBaseManager(device, "PyTorch")) {
      Map<String, Trainable> trainables = new LinkedHashMap<>();
      zeroed.forEach((name, z) -> {
        NDArray mask = manager.create(LeastSquaresRefit.survivors(z), new Shape(student.shape(name)));
        NDArray w = manager.create(student.entry(name).values(), new Shape(student.shape(name))).mul(mask);
        w.setRequiresGradient(true);
        trainables.put(name, new Masked(w, mask));
      });
      double kl = train(model, student, trainables, calibration, manager, epochs, batchSize, learningRate, seed);
      trainables.forEach((name, t) -> student.set(name, t.parameter().toFloatArray()));
      return kl;
    }
  }

  /**
   * Fine-tunes the codebooks of quantized weights toward the teacher; which level each weight
   * takes, and which weights are pruned, stay as they are. The student table is left unchanged.
   *
   * @param tensors quantized weights of the student, by name
   * @return per name, the codebook after training (same length and order as given)
   */
  public static Map<String, float[]> tuneCodebooks(OnnxModel model, ParameterTable student,
      Map<String, io.evoc.protocol.container.QuantizedTensor> tensors, HostTensor calibration, Device device, int epochs,
      int batchSize, float learningRate, long seed) {
    try (NDManager manager = NDManager.newBaseManager(device, "PyTorch")) {
      Map<String, Trainable> trainables = new LinkedHashMap<>();
      // Tensors with one codebook (weight sharing) tune it as one: it stays shared.
      Map<float[], NDArray> levels = new java.util.TreeMap<>(java.util.Arrays::compare);
      tensors.forEach((name, t) -> {
        int[] index = t.index();
        int[] flat = new int[index.length];
        float[] keep = new float[index.length];
        for (int i = 0; i < index.length; i++) {
          flat[i] = Math.max(0, index[i]);
          keep[i] = index[i] < 0 ? 0 : 1;
        }
        trainables.put(name, new Tied(levels.computeIfAbsent(t.codebook(), c -> manager.create(c.clone())),
            flat, keep, new Shape(student.shape(name))));
      });
      train(model, student, trainables, calibration, manager, epochs, batchSize, learningRate, seed);
      Map<String, float[]> out = new LinkedHashMap<>();
      trainables.forEach((name, t) -> out.put(name, t.parameter().toFloatArray()));
      return out;
    }
  }

  /** Adam on the trainables' parameters, minimizing KL to the teacher; the mean KL of the last epoch. */
  private static double train(OnnxModel model, ParameterTable student, Map<String, Trainable> trainables,
      HostTensor calibration, NDManager manager, int epochs, int batchSize, float learningRate, long seed) {
    String inputName = model.inputs().get(0).name();
    String outputName = model.outputs().get(0).name();
    OutputKind kind = OutputKind.detect(model);
    int n = (int) calibration.shape()[0];
    double lastEpoch = Double.NaN;
    Device device = manager.getDevice();
    try (GraphExecutor executor = GraphExecutor.create(model, student, device);
        GraphExecutor teacher = GraphExecutor.create(model, ParameterTable.of(model), device)) {
      NDArray input = manager.create(calibration.data(), new Shape(calibration.shape()));
      NDArray target = teacherTargets(teacher, input, inputName, outputName, kind, manager);
      // A gradient collector restores the grad mode it found: found on (any thread but the
      // engine's, see Engines.inferenceThread), Adam's in-place steps ran under autograd and failed.
      Engines.inferenceThread();
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
            Map<String, NDArray> feeds = new HashMap<>();
            feeds.put(inputName, x);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
              trainables.forEach((name, w) -> feeds.put(name, w.weight(scope)));
              NDArray out = executor.run(feeds, List.of(outputName), scope).get(outputName);
              NDArray loss = Divergence.klLoss(t, Divergence.logProbabilities(out, kind));
              sum += loss.getFloat();
              gc.backward(loss);
            }
            // A shared codebook takes one step, on the sum of its tensors' gradients (in their order).
            Map<NDArray, NDArray> grads = new java.util.IdentityHashMap<>();
            Map<String, Trainable> stepped = new LinkedHashMap<>(); // by the name of a parameter's first tensor
            trainables.forEach((name, w) -> {
              NDArray grad = w.gradient();
              grad.attach(scope);
              NDArray before = grads.putIfAbsent(w.parameter(), grad);
              if (before == null) {
                stepped.put(name, w);
              } else {
                grads.put(w.parameter(), before.add(grad));
              }
            });
            stepped.forEach((name, w) -> {
              adam.update(name, w.parameter(), grads.get(w.parameter()));
              w.project();
            });
            batches++;
          }
          trainables.values().forEach(Trainable::clearGradient);
        }
        lastEpoch = sum / batches;
      }
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
