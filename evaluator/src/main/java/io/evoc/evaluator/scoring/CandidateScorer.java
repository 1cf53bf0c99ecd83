package io.evoc.evaluator.scoring;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.evoc.evaluator.engine.DirectFloats;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.graph.BatchFreeGraph;
import io.evoc.evaluator.graph.GraphExecutor;
import io.evoc.evaluator.graph.NodeFailedException;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.graph.UnsupportedModelException;
import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.onnx.AttributeProto;
import io.evoc.protocol.onnx.NodeProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Scores candidates, sets of one layer's weights to zero tentatively, by the divergence between the
 * teacher's output and the student's with the candidate applied, on a fixed calibration batch.
 *
 * <p>The student is the {@link ParameterTable} the caller commits to. Once per student revision and
 * layer the scorer caches the student's activations around the layer; a candidate then runs only
 * from its layer onward, and the candidates of one call run downstream stacked on the batch axis
 * (stacks sized for the CPU's cache, or large on a GPU). For Gemm and MatMul the candidate's layer output is the cached output minus the zeroed
 * weights' contribution ({@link Route#DELTA}); other layers rerun just their node ({@link
 * Route#LAYER}). Where stacking candidates does not reproduce the graph (a Reshape with a
 * hard-coded batch), each runs downstream alone; where nothing incremental applies, a full forward
 * pass per candidate ({@link #scoreFull}).
 *
 * <p>Deterministic: the same student, candidates and call sizes give the same bits. Not thread-safe.
 */
public final class CandidateScorer implements CandidateScoring, AutoCloseable {
  /** Floats of candidate layer outputs built on the host in one parallel pass (DELTA route). */
  private static final long HOST_BUDGET = 24L << 20;
  /**
   * Floats of one stacked batch run downstream on a CPU: about 2.5 MB, so that each op's input and
   * output stay in cache (MLP search, one thread: fc1 scored at 259-267 candidates/s in stacks of 1
   * or 2 against 211-229 in stacks of 4, and 1.1 ms per candidate in stacks of 8 against 2.6 ms in
   * one of 64). Small stacks also let the cluster cut a population into units finely.
   */
  private static final long STACK_BUDGET_CPU = 5L << 17;
  /** On a GPU one large stack keeps the device busy. */
  private static final long STACK_BUDGET_GPU = 24L << 20;
  /** What the teacher's layer outputs kept for the refits may take together. */
  private static final long TEACHER_ROWS_BYTES = 256L << 20;
  /** What {@link LayerInputs} keeps the scoring batch's tensors under. */
  private static final Object BATCH = "calibration batch";

  /** How a layer's candidates are scored. */
  public enum Route {
    /** Cached layer output minus the zeroed weights' contribution, then downstream. */
    DELTA,
    /** The layer's node rerun from its cached input, then downstream. */
    LAYER
  }

  /** Per candidate: divergence from the teacher, and top-1 agreement with it (NaN under MSE). */
  public record Scores(float[] divergence, float[] agreement) {}

  private final ParameterTable student;
  private final OnnxModel model;
  private final GraphExecutor executor;
  private final NDManager manager;
  private final String inputName;
  private final String outputName;
  private final NDArray input;
  private final int samples;
  private final Metric metric;
  private final OutputKind kind;
  private final NDArray reference;
  private final float referenceScale;
  private GraphExecutor teacher;
  private final Map<String, Layer> layers = new LinkedHashMap<>();
  private final Map<String, java.util.Set<String>> cuts = new HashMap<>();
  private final Map<String, Float> alphas = new HashMap<>();
  private final Map<String, Boolean> stackable = new HashMap<>();
  /** Per layer, the elements of one candidate's layer output (samples included): what sizes its stacks. */
  private final Map<String, Long> outputElements = new HashMap<>();
  private final DirectFloats feed = new DirectFloats();
  private LayerCache cache;
  private LayerInputs layerInputs;
  /** The teacher's layer outputs on rows of inputs other than the scoring batch (see layerActivations). */
  private final Map<TeacherRows, NDArray> teacherRows = new HashMap<>();
  private long teacherRowsBytes;

  /** Rows [from, from + count) of {@code source}, an array compared by identity. */
  private record Rows(HostTensor source, int from, long count) {}

  private record TeacherRows(String tensor, Rows rows) {}
  /** Runs the host-side delta updates; null: the common pool. */
  private java.util.concurrent.ForkJoinPool threads;

  /**
   * @param calibration the calibration inputs as the model takes them, [N, ...]
   * @param student the weights candidates are applied to; the teacher is the model file's
   */
  public CandidateScorer(OnnxModel model, ParameterTable student, Device device, HostTensor calibration, Metric metric) {
    if (model.inputs().size() != 1) {
      throw new IllegalArgumentException(model.source() + ": has " + model.inputs().size()
          + " inputs; scoring feeds models with exactly one");
    }
    this.student = student;
    this.metric = metric;
    this.kind = OutputKind.detect(model);
    this.inputName = model.inputs().get(0).name();
    this.outputName = model.outputs().get(0).name();
    this.samples = (int) calibration.shape()[0];
    this.manager = NDManager.newBaseManager(device, "PyTorch");
    try {
      this.input = manager.create(calibration.data(), new Shape(calibration.shape()));
      this.model = BatchFreeGraph.forBatch(model, input, device);
      this.executor = GraphExecutor.create(this.model, student, device);
      this.teacher = GraphExecutor.create(this.model, ParameterTable.of(this.model), device);
      try (NDManager scope = manager.newSubManager()) {
        NDArray out = teacherOutput(scope);
        if (out.getShape().dimension() == 0 || out.getShape().get(0) != samples) {
          throw new IllegalArgumentException(model.source() + ": first output '" + outputName + "' has shape "
              + out.getShape() + "; scoring needs one row per calibration sample (" + samples + ")");
        }
        if (out.isNaN().logicalOr(out.isInfinite()).any().getBoolean()) { // no divergence can be measured
          float[] v = out.toFloatArray();
          int at = 0;
          while (Float.isFinite(v[at])) {
            at++;
          }
          throw new IllegalArgumentException(model.source() + ": its output '" + outputName + "' is " + v[at]
              + " on calibration sample " + at / (v.length / samples) + " (the inputs are finite): check the "
              + "model's weights");
        }
        NDArray ref = metric == Metric.KL ? Divergence.logProbabilities(out, kind) : out.duplicate();
        // Computed while ref still belongs to the scope, so the temporaries die with it.
        this.referenceScale = metric == Metric.KL ? 1f : Math.max(1e-12f, ref.square().mean().getFloat());
        ref.attach(manager);
        this.reference = ref;
      }
      for (Layer layer : Layers.of(this.model)) {
        if (Cut.reachesOutput(this.model, layer.output())) {
          layers.put(layer.weight(), layer);
          cuts.put(layer.weight(), Cut.besides(this.model, layer.output()));
          alphas.put(layer.weight(), alpha(this.model, layer));
        }
      }
      layerInputs = new LayerInputs(this.model, layers.values(), student, manager);
    } catch (RuntimeException e) {
      if (teacher != null) {
        teacher.close();
      }
      manager.close();
      if (e instanceof UnsupportedModelException) {
        throw new UnsupportedModelException(model.source() + ": " + e.getMessage() + "; scoring runs the graph in "
            + "evoc's executor (./evoc inspect-model lists what it covers)");
      }
      throw e;
    }
  }

  /** The teacher's output on every calibration sample at once; a graph that fixes its batch below that fails, named. */
  private NDArray teacherOutput(NDManager scope) {
    try {
      return teacher.run(Map.of(inputName, input), List.of(outputName), scope).get(outputName);
    } catch (NodeFailedException e) {
      long batch = model.inputs().get(0).fixedBatch();
      if (batch <= 0 || samples <= batch) {
        throw e;
      }
      throw new IllegalArgumentException(model.source() + ": " + e.getMessage() + ", running " + samples
          + " samples at once; the model fixes its batch at " + batch + " and scoring feeds every calibration "
          + "sample together: export it with a dynamic batch", e);
    }
  }

  /**
   * Host threads for the delta updates (default: the common pool). Results do not depend on it:
   * each candidate is computed by one thread in a fixed order.
   */
  public CandidateScorer threads(int count) {
    if (count < 1) {
      throw new IllegalArgumentException("threads must be >= 1, got " + count);
    }
    if (threads != null) {
      threads.shutdown();
    }
    threads = new java.util.concurrent.ForkJoinPool(count);
    return this;
  }

  /** The prunable layers that influence the first output, in node order. */
  public List<Layer> layers() {
    return List.copyOf(layers.values());
  }

  /** The layer a person names: by its weight, or by the node that multiplies by it. */
  public Layer layer(String name) {
    Layer l = layers.get(name);
    if (l != null) {
      return l;
    }
    List<Layer> byNode = layers.values().stream().filter(x -> x.node().equals(name)).toList();
    if (byNode.size() == 1) {
      return byNode.get(0);
    }
    throw new IllegalArgumentException("no prunable layer with weight or node '" + name + "'; layers: "
        + layers.values().stream().map(x -> x.node().isEmpty() ? x.weight() : x.weight() + " (" + x.node() + ")")
            .toList());
  }

  /** The student's current values of a layer's weight (shared: do not modify). */
  public float[] weights(Layer layer) {
    return student.entry(layer.weight()).values();
  }

  public OnnxModel model() {
    return model;
  }

  public Device device() {
    return manager.getDevice();
  }

  public int samples() {
    return samples;
  }

  public Metric metric() {
    return metric;
  }

  public static Route route(Layer layer) {
    boolean delta = layer.opType().equals("Gemm") || layer.opType().equals("MatMul") && layer.inAxis() == 0;
    return delta ? Route.DELTA : Route.LAYER;
  }

  /** Whether candidates of this layer run downstream stacked (false: one at a time). */
  public boolean stacked(Layer layer) {
    cacheFor(layer);
    return stackable.get(layer.weight());
  }

  /** The committed student as it stands. */
  public Scores scoreStudent() {
    try (NDManager scope = manager.newSubManager()) {
      NDArray out = executor.run(Map.of(inputName, input), List.of(outputName), scope).get(outputName);
      return divergence(out, 1);
    }
  }

  /** The committed student scored and its top-1 classes, from one forward pass. */
  public StudentScoring.Point scorePoint() {
    try (NDManager scope = manager.newSubManager()) {
      NDArray out = executor.run(Map.of(inputName, input), List.of(outputName), scope).get(outputName);
      int[] top1 = top1(out);
      Scores s = divergence(out, 1);
      return new StudentScoring.Point(s.divergence()[0], s.agreement()[0], top1);
    }
  }

  /** The teacher's top-1 class per softmax row of the scoring batch. */
  public int[] teacherTop1() {
    try (NDManager scope = manager.newSubManager()) {
      reference.tempAttach(scope); // what argMax derives dies with the scope
      return top1(reference);
    }
  }

  private static int[] top1(NDArray out) {
    long[] top = out.argMax(-1).toLongArray();
    int[] classes = new int[top.length];
    for (int i = 0; i < top.length; i++) {
      classes[i] = (int) top[i];
    }
    return classes;
  }

  /** A student output computed elsewhere (another engine), scored against the same reference. */
  public Scores scoreOutput(HostTensor output) {
    try (NDManager scope = manager.newSubManager()) {
      return divergence(scope.create(output.data(), new Shape(output.shape())), 1);
    }
  }

  /** Candidates of one layer, incrementally: index lists into the layer's flat weight, sorted. */
  public Scores score(Layer layer, List<int[]> candidates) {
    return score(layer, candidates, null);
  }

  /**
   * Candidates that set their members to given values instead of zero (restoring pruned weights).
   *
   * @param values per weight of the layer, the value a member takes; null: zero
   */
  @Override
  public Scores score(Layer layer, List<int[]> candidates, float[] values) {
    if (values != null && values.length != layer.size()) {
      throw new IllegalArgumentException("values for " + layer.weight() + ": " + values.length + ", layer has "
          + layer.size());
    }
    LayerCache c = cacheFor(layer);
    boolean delta = route(layer) == Route.DELTA;
    if (delta) {
      c.deltaBlocks();
    }
    int n = candidates.size();
    long perCandidate = Arrays.stream(c.outputShape).reduce(1, Math::multiplyExact);
    int stack = stackSize(layer, n);
    // The host fills several stacks at once: one parallel pass, not one per stack.
    int group = delta ? (int) Math.max(stack, Math.min(n, HOST_BUDGET / perCandidate) / stack * stack) : stack;
    float[] divergence = new float[n];
    float[] agreement = new float[n];
    for (int from = 0; from < n; from += group) {
      List<int[]> members = candidates.subList(from, Math.min(n, from + group));
      ByteBuffer host = delta ? deltaOutputs(c, members, values) : null;
      for (int at = 0; at < members.size(); at += stack) {
        List<int[]> part = members.subList(at, Math.min(members.size(), at + stack));
        try (NDManager scope = manager.newSubManager()) {
          NDArray outputs = delta ? stacked(c, host, at, part.size(), scope) : layerOutputs(c, part, values, scope);
          Scores s = downstream(c, outputs, part.size(), scope);
          System.arraycopy(s.divergence(), 0, divergence, from + at, part.size());
          System.arraycopy(s.agreement(), 0, agreement, from + at, part.size());
        }
      }
    }
    return new Scores(divergence, agreement);
  }

  /**
   * Candidates scored together in one pass when {@code n} are scored at once: stacks of this size
   * from the first candidate on, the last one shorter. A candidate's score can differ in its last
   * bit with the stack it is in, so whoever splits a population (the cluster's work units) splits
   * it on these boundaries, and the scores stay those of one process scoring it whole.
   */
  public int stackSize(Layer layer, int n) {
    Long perCandidate = outputElements.get(layer.weight());
    if (perCandidate == null) {
      perCandidate = Arrays.stream(cacheFor(layer).outputShape).reduce(1, Math::multiplyExact);
      outputElements.put(layer.weight(), perCandidate); // the shape stays as the weights change
    }
    if (!stackable.get(layer.weight())) {
      return 1;
    }
    long budget = manager.getDevice().isGpu() ? STACK_BUDGET_GPU : STACK_BUDGET_CPU;
    return (int) Math.max(1, Math.min(n, budget / perCandidate));
  }

  /** Candidates of one layer by a full forward pass each: the baseline incremental scoring must beat. */
  public Scores scoreFull(Layer layer, List<int[]> candidates) {
    float[] weight = student.entry(layer.weight()).values();
    float[] divergence = new float[candidates.size()];
    float[] agreement = new float[candidates.size()];
    for (int p = 0; p < candidates.size(); p++) {
      try (NDManager scope = manager.newSubManager()) {
        NDArray w = withValues(weight, candidates.get(p), null, layer.shape(), scope);
        NDArray out = executor.run(Map.of(inputName, input, layer.weight(), w), List.of(outputName), scope).get(outputName);
        Scores s = divergence(out, 1);
        divergence[p] = s.divergence()[0];
        agreement[p] = s.agreement()[0];
      }
    }
    return new Scores(divergence, agreement);
  }

  @Override
  public void close() {
    if (threads != null) {
      threads.shutdown();
    }
    if (cache != null) {
      cache.arrays.close();
    }
    layerInputs.close();
    executor.close();
    teacher.close();
    manager.close();
  }

  /** What a divergence is measured against: 1 for KL, the mean square of the teacher's output for MSE. */
  public float referenceScale() {
    return referenceScale;
  }

  /** The student's input and output of a layer at its current revision: {input, output}. */
  NDArray[] studentActivations(Layer layer) {
    LayerCache c = cacheFor(layer);
    return new NDArray[] {c.layerInput, c.layerOutput};
  }

  /**
   * On inputs other than the scoring batch, {@code inputs} being rows [from, ...) of {@code source}:
   * the student's input and output of a layer and the teacher's output of it, {x, student y,
   * teacher y}. The teacher's layer output is kept, within a budget, for the next call on the same
   * rows, and the student's pass starts from a kept layer input (see LayerInputs): the refits after
   * each commit ask for the same rows again, and the teacher never changes, so it is the same bits.
   */
  NDArray[] layerActivations(Layer layer, NDArray inputs, HostTensor source, int from, NDManager scope) {
    Rows rows = new Rows(source, from, inputs.getShape().get(0));
    Map<String, NDArray> s = studentRun(layer, inputs, rows, List.of(layer.input(), layer.output()), scope);
    TeacherRows key = new TeacherRows(layer.output(), rows);
    NDArray kept = teacherRows.get(key);
    NDArray t;
    if (kept != null) {
      t = kept.duplicate();
      t.attach(scope);
    } else {
      t = teacher.run(Map.of(inputName, inputs), List.of(layer.output()), scope).get(layer.output());
      if (teacherRowsBytes + t.size() * 4 <= TEACHER_ROWS_BYTES) {
        NDArray copy = t.duplicate();
        copy.attach(manager);
        teacherRows.put(key, copy);
        teacherRowsBytes += copy.size() * 4;
      }
    }
    return new NDArray[] {s.get(layer.input()), s.get(layer.output()), t};
  }

  /**
   * The student's {@code wanted} tensors on model inputs {@code x}, rows named {@code rows}: the pass
   * starts from the deepest layer input kept for {@code layer} there, and keeps the deeper ones.
   */
  private Map<String, NDArray> studentRun(Layer layer, NDArray x, Object rows, List<String> wanted, NDManager scope) {
    LayerInputs.Start start = layerInputs.start(layer, rows);
    List<String> keep = layerInputs.toKeep(layer, start);
    List<String> all = new ArrayList<>(wanted);
    all.addAll(keep);
    Map<String, NDArray> feeds = start == null ? Map.of(inputName, x) : Map.of(start.name(), start.value());
    Map<String, NDArray> got = executor.run(feeds, all.stream().distinct().toList(), scope);
    layerInputs.keep(keep, got, rows);
    return got;
  }

  /** Where a forward pass for the layer would start now: a kept layer input, else the model's input (for tests). */
  String forwardStart(Layer layer) {
    LayerInputs.Start start = layerInputs.start(layer, BATCH);
    return start == null ? inputName : start.name();
  }

  /** The student's layer node alone, on {@code feeds} (its input, and any weight or bias to replace). */
  NDArray runLayerNode(Layer layer, Map<String, NDArray> feeds, NDManager scope) {
    return executor.run(feeds, List.of(layer.output()), scope).get(layer.output());
  }

  float alpha(Layer layer) {
    return alphas.get(layer.weight());
  }

  /**
   * Per weight of the layer, the diagonal Gauss-Newton curvature of the divergence at the current
   * student ({@link Curvature}): {@code 0.5 * h * w * w} estimates the harm of zeroing one weight.
   *
   * @param seed only used for outputs too wide for exact probes
   */
  public float[] curvature(Layer layer, long seed) {
    return Curvature.diagonal(this, layer, seed);
  }

  /**
   * Per weight of the layer, the gradient of the divergence at the current student ({@link
   * Gradient}).
   */
  public float[] gradient(Layer layer) {
    return Gradient.of(this, layer);
  }

  /** The model output divergences are measured on (the first). */
  String outputName() {
    return outputName;
  }

  /** The teacher's output as divergences compare against it: log-probabilities for KL, raw for MSE. */
  NDArray reference() {
    return reference;
  }

  /** The tensors besides the layer's output that the graph downstream of it reads, at the current student. */
  Map<String, NDArray> cut(Layer layer) {
    return cacheFor(layer).cut;
  }

  NDManager manager() {
    return manager;
  }

  GraphExecutor executor() {
    return executor;
  }

  OutputKind outputKind() {
    return kind;
  }

  /** Output values per calibration sample. */
  long outputValues() {
    return reference.size() / samples;
  }

  ParameterTable student() {
    return student;
  }

  /** The candidates' layer outputs one after another, built on the host from the cache. */
  private ByteBuffer deltaOutputs(LayerCache c, List<int[]> part, float[] values) {
    int size = c.rows * c.out;
    ByteBuffer bytes = feed.reserve(Math.multiplyExact(part.size(), size));
    FloatBuffer target = bytes.asFloatBuffer();
    // Candidates write disjoint slices, each in its own fixed order: bits do not depend on threads.
    Runnable fill = () -> IntStream.range(0, part.size()).parallel()
        .forEach(p -> subtractChanged(c, part.get(p), values, target, p * size));
    if (threads == null) {
      fill.run();
    } else {
      threads.submit(fill).join();
    }
    return bytes;
  }

  /** {@code count} candidates' layer outputs from {@code first} on, stacked on the batch axis. */
  private static NDArray stacked(LayerCache c, ByteBuffer host, int first, int count, NDManager scope) {
    int bytes = c.rows * c.out * Float.BYTES;
    ByteBuffer slice = host.duplicate().position(first * bytes).limit((first + count) * bytes).slice()
        .order(ByteOrder.nativeOrder());
    long[] shape = c.outputShape.clone();
    shape[0] *= count;
    return scope.create(slice, new Shape(shape), DataType.FLOAT32);
  }

  /**
   * One candidate's layer output, [rows, out] at {@code offset}: the cached output minus (w[r, c] -
   * v[r, c]) * x[:, c] for each changed weight (v = 0 when zeroing), a block of rows at a time so
   * that the activations read and the outputs written stay in cache. Each row block is a separate array indexed from 0, the only
   * shape of loop that C2 vectorizes (with offsets into shared arrays it runs scalar, 4x slower).
   */
  private static void subtractChanged(LayerCache c, int[] changed, float[] values, FloatBuffer target, int offset) {
    Scratch s = SCRATCH.get().fit(changed.length, c.out);
    int n = 0;
    for (int i : changed) {
      float w = (values == null ? c.weight[i] : c.weight[i] - values[i]) * c.alpha;
      if (w != 0) {
        int a = i / c.cols;
        int b = i - a * c.cols;
        s.outRow[n] = c.outFirst ? a : b;
        s.inRow[n] = c.outFirst ? b : a;
        s.value[n++] = w;
      }
    }
    float[][] y = s.rows;
    float[] rowMajor = s.rowMajor;
    for (int block = 0; block < c.x.length; block++) {
      int m0 = block * BLOCK;
      int len = Math.min(BLOCK, c.rows - m0);
      float[][] x = c.x[block];
      for (int r = 0; r < c.out; r++) {
        System.arraycopy(c.y[block][r], 0, y[r], 0, len);
      }
      for (int j = 0; j < n; j++) {
        float w = s.value[j];
        float[] yr = y[s.outRow[j]];
        float[] xc = x[s.inRow[j]];
        for (int k = 0; k < len; k++) {
          yr[k] -= w * xc[k];
        }
      }
      for (int r = 0; r < c.out; r++) {
        float[] yr = y[r];
        for (int k = 0; k < len; k++) {
          rowMajor[k * c.out + r] = yr[k];
        }
      }
      target.put(offset + m0 * c.out, rowMajor, 0, len * c.out);
    }
  }

  /** Rows of activations per block: a block of a few hundred features stays in a core's L2. */
  private static final int BLOCK = 128;

  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  /** Per-thread buffers of the delta update, grown as needed and reused: no allocation per candidate. */
  private static final class Scratch {
    int[] outRow = new int[0];
    int[] inRow = new int[0];
    float[] value = new float[0];
    float[][] rows = new float[0][];
    float[] rowMajor = new float[0];

    Scratch fit(int zeroed, int out) {
      if (outRow.length < zeroed) {
        outRow = new int[zeroed];
        inRow = new int[zeroed];
        value = new float[zeroed];
      }
      if (rows.length < out) {
        rows = new float[out][BLOCK];
        rowMajor = new float[out * BLOCK];
      }
      return this;
    }
  }

  /** The layer's node rerun per candidate from the cached input, outputs stacked on the batch axis. */
  private NDArray layerOutputs(LayerCache c, List<int[]> part, float[] values, NDManager scope) {
    NDList outs = new NDList(part.size());
    for (int[] changed : part) {
      NDArray w = withValues(c.weight, changed, values, c.layer.shape(), scope);
      outs.add(executor.run(Map.of(c.layer.input(), c.layerInput, c.layer.weight(), w),
          List.of(c.layer.output()), scope).get(c.layer.output()));
    }
    return outs.size() == 1 ? outs.get(0) : NDArrays.concat(outs, 0);
  }

  private Scores downstream(LayerCache c, NDArray outputs, int count, NDManager scope) {
    Map<String, NDArray> feeds = new HashMap<>();
    feeds.put(c.layer.output(), outputs);
    c.cut.forEach((name, a) -> feeds.put(name, tile(a, count, scope)));
    NDArray out = executor.run(feeds, List.of(outputName), scope).get(outputName);
    return divergence(out, count);
  }

  /** Repeats a batch-major tensor {@code count} times on the batch axis; others pass unchanged. */
  private NDArray tile(NDArray a, int count, NDManager scope) {
    if (count == 1 || a.getShape().dimension() == 0 || a.getShape().get(0) != samples) {
      return a;
    }
    long[] reps = new long[a.getShape().dimension()];
    Arrays.fill(reps, 1);
    reps[0] = count;
    NDArray tiled = a.tile(reps);
    tiled.attach(scope);
    return tiled;
  }

  private Scores divergence(NDArray out, int count) {
    // Arrays derived from the reference must die with the caller's scope, not pile up in the base.
    reference.tempAttach(out.getManager());
    if (metric == Metric.MSE) {
      float[] none = new float[count];
      Arrays.fill(none, Float.NaN);
      return new Scores(Divergence.mse(reference, out, count), none);
    }
    NDArray logp = Divergence.logProbabilities(out, kind);
    return new Scores(Divergence.kl(reference, logp, count), Divergence.agreement(reference, logp, count));
  }

  private static NDArray withValues(float[] weight, int[] changed, float[] values, long[] shape, NDManager scope) {
    float[] w = weight.clone();
    for (int i : changed) {
      w[i] = values == null ? 0 : values[i];
    }
    return scope.create(w, new Shape(shape));
  }

  private LayerCache cacheFor(Layer layer) {
    if (cache != null && cache.layer.equals(layer) && cache.revision == student.revision()) {
      return cache;
    }
    if (cache != null) {
      cache.arrays.close();
      cache = null;
    }
    NDManager arrays = manager.newSubManager();
    try {
      cache = new LayerCache(layer, arrays);
    } catch (RuntimeException e) {
      arrays.close();
      throw e;
    }
    stackable.computeIfAbsent(layer.weight(), k -> stacksLikeSingle(cache));
    return cache;
  }

  /**
   * Whether two copies of the student's layer output, stacked, run downstream to two copies of the
   * student's output: false for graphs that fix the batch size after the layer.
   */
  private boolean stacksLikeSingle(LayerCache c) {
    try (NDManager scope = manager.newSubManager()) {
      NDArray two = NDArrays.concat(new NDList(c.layerOutput, c.layerOutput), 0);
      two.attach(scope);
      Map<String, NDArray> feeds = new HashMap<>();
      feeds.put(c.layer.output(), two);
      c.cut.forEach((name, a) -> feeds.put(name, tile(a, 2, scope)));
      NDArray out = executor.run(feeds, List.of(outputName), scope).get(outputName);
      NDArray single = c.studentOutput;
      if (out.getShape().get(0) != 2L * single.getShape().get(0)) {
        return false;
      }
      NDArray expected = NDArrays.concat(new NDList(single, single), 0);
      float tolerance = 1e-4f * Math.max(1f, single.abs().max().getFloat());
      return out.reshape(expected.getShape()).sub(expected).abs().max().getFloat() <= tolerance;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static float alpha(OnnxModel model, Layer layer) {
    for (NodeProto n : model.graph().getNodeList()) {
      if (n.getOutputCount() > 0 && n.getOutput(0).equals(layer.output()) && n.getOpType().equals("Gemm")) {
        for (AttributeProto a : n.getAttributeList()) {
          if (a.getName().equals("alpha")) {
            return a.getF();
          }
        }
      }
    }
    return 1f;
  }

  private static float[][][] blocks(float[] transposed, int features, int rows) {
    int count = (rows + BLOCK - 1) / BLOCK;
    float[][][] out = new float[count][features][BLOCK];
    for (int b = 0; b < count; b++) {
      int len = Math.min(BLOCK, rows - b * BLOCK);
      for (int f = 0; f < features; f++) {
        System.arraycopy(transposed, f * rows + b * BLOCK, out[b][f], 0, len);
      }
    }
    return out;
  }

  private static float[] transposedCopy(NDArray a, int rows, int cols) {
    try (NDArray t = a.reshape(rows, cols).transpose()) {
      return t.toFloatArray();
    }
  }

  /** The student's activations around one layer at one revision. */
  private final class LayerCache {
    final Layer layer;
    final long revision;
    final NDManager arrays;
    final NDArray layerInput;
    final NDArray layerOutput;
    final NDArray studentOutput;
    final Map<String, NDArray> cut = new LinkedHashMap<>();
    final long[] outputShape;
    final float[] weight;
    final float alpha;
    // DELTA only, built by deltaBlocks when the layer's candidates are first scored (a scorer that
    // only estimates curvature, the prior's, never needs them): the layer's input and output
    // transposed and cut into blocks of BLOCK rows, [block][feature][row in block]; rows = samples
    // x leading axes.
    float[][][] x;
    float[][][] y;
    int rows;
    int out;
    int cols;
    boolean outFirst;

    LayerCache(Layer layer, NDManager arrays) {
      this.layer = layer;
      this.revision = student.revision();
      this.arrays = arrays;
      this.weight = student.entry(layer.weight()).values();
      this.alpha = alphas.get(layer.weight());
      List<String> wanted = new ArrayList<>(List.of(layer.input(), layer.output(), outputName));
      wanted.addAll(cuts.get(layer.weight()));
      Map<String, NDArray> got = studentRun(layer, input, BATCH, wanted, arrays);
      this.layerInput = got.get(layer.input());
      this.layerOutput = got.get(layer.output());
      this.studentOutput = got.get(outputName);
      cuts.get(layer.weight()).forEach(name -> cut.put(name, got.get(name)));
      this.outputShape = layerOutput.getShape().getShape();
    }

    void deltaBlocks() {
      if (x != null) {
        return;
      }
      long[] shape = layer.shape();
      out = (int) shape[layer.outAxis()];
      int in = (int) shape[layer.inAxis()];
      cols = (int) shape[1];
      outFirst = layer.outAxis() == 0;
      rows = Math.toIntExact(layerOutput.size() / out);
      x = blocks(transposedCopy(layerInput, rows, in), in, rows);
      y = blocks(transposedCopy(layerOutput, rows, out), out, rows);
    }
  }
}
