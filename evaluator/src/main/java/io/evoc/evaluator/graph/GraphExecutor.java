package io.evoc.evaluator.graph;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.evoc.evaluator.graph.ops.OpRegistry;
import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.onnx.NodeProto;
import io.evoc.protocol.onnx.TensorProto;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs an ONNX graph with DJL NDArrays on one device. Weights are read from a {@link
 * ParameterTable} and re-uploaded only when their version changes; a run may start from any
 * intermediate tensors (fed by name) and stop at any tensors, executing only the nodes in between.
 *
 * <p>Every array a run creates lives in a per-run sub-manager that is closed when the run ends;
 * only the requested results move to the caller's manager. Not thread-safe: one executor per thread.
 */
public final class GraphExecutor implements AutoCloseable {
  private final ParameterTable parameters;
  private final NDManager base;
  private final List<Step> steps;
  private final Map<String, Integer> producer = new HashMap<>();
  private final Map<String, NDArray> resident = new HashMap<>();
  private final Map<String, Long> uploaded = new HashMap<>();
  private final Set<NDArray> kept = Collections.newSetFromMap(new IdentityHashMap<>());
  private final Map<List<Collection<String>>, int[]> plans = new HashMap<>();
  private final List<String> graphOutputs;
  private Map<String, long[]> profile;

  private record Step(Node node, Kernel kernel) {}

  private GraphExecutor(OnnxModel model, ParameterTable parameters, Device device, OpRegistry ops) {
    this.parameters = parameters;
    this.base = NDManager.newBaseManager(device, "PyTorch");
    try {
      // Only what nodes read: files in the wild carry unused initializers of types the executor
      // does not load (float16, strings), which must not force the whole graph onto ONNX Runtime.
      Set<String> read = new java.util.HashSet<>();
      model.graph().getNodeList().forEach(n -> read.addAll(n.getInputList()));
      for (TensorProto t : model.initializers().values()) {
        if (read.contains(t.getName()) && !parameters.contains(t.getName())) {
          resident.put(t.getName(), keep(Tensors.fromProto(t, base)));
        }
      }
      this.steps = compile(model, ops);
      this.graphOutputs = model.outputs().stream().map(o -> o.name()).toList();
    } catch (RuntimeException e) {
      base.close();
      throw e;
    }
  }

  /**
   * Compiles the graph for a device. Throws {@link UnsupportedModelException} naming every node
   * the executor cannot run.
   */
  public static GraphExecutor create(OnnxModel model, ParameterTable parameters, Device device) {
    return new GraphExecutor(model, parameters, device, OpRegistry.standard());
  }

  public Device device() {
    return base.getDevice();
  }

  public List<String> outputNames() {
    return graphOutputs;
  }

  /**
   * Computes {@code outputs} from {@code feeds} (graph inputs or any intermediate tensors). The
   * feeds stay the caller's; the results are attached to {@code resultManager}.
   */
  public Map<String, NDArray> run(Map<String, NDArray> feeds, List<String> outputs, NDManager resultManager) {
    syncParameters();
    int[] plan = plan(feeds.keySet(), outputs);
    Set<NDArray> borrowed = Collections.newSetFromMap(new IdentityHashMap<>());
    borrowed.addAll(kept);
    borrowed.addAll(feeds.values());
    try (NDManager scope = base.newSubManager()) {
      // DJL puts an op's result in the manager of its first operand: lending weights and feeds to
      // the scope makes every array this run creates (temporaries included) die with the scope.
      for (NDArray a : borrowed) {
        a.tempAttach(scope);
      }
      Map<String, NDArray> values = new HashMap<>(resident);
      values.putAll(feeds);
      for (int index : plan) {
        Step step = steps.get(index);
        List<String> in = step.node().inputs();
        NDArray[] args = new NDArray[in.size()];
        for (int i = 0; i < args.length; i++) {
          args[i] = in.get(i).isEmpty() ? null : require(values, in.get(i), step.node());
        }
        long started = profile == null ? 0 : System.nanoTime();
        NDArray[] results;
        try {
          results = step.kernel().apply(args);
        } catch (RuntimeException e) {
          throw new NodeFailedException(step.node(), e);
        }
        if (profile != null) {
          long[] t = profile.computeIfAbsent(step.node().opType(), k -> new long[2]);
          t[0] += System.nanoTime() - started;
          t[1]++;
        }
        List<String> names = step.node().outputs();
        for (int i = 0; i < Math.min(results.length, names.size()); i++) {
          if (!names.get(i).isEmpty()) {
            values.put(names.get(i), results[i]);
          }
        }
      }
      Map<String, NDArray> out = new LinkedHashMap<>();
      for (String name : outputs) {
        NDArray r = values.get(name);
        if (r == null) {
          throw new IllegalArgumentException("tensor '" + name + "' is declared but its node does not produce it");
        }
        // A result that is a weight or a feed must not be handed over: give a copy instead.
        NDArray owned = borrowed.contains(r) ? r.duplicate() : r;
        owned.attach(resultManager);
        out.put(name, owned);
      }
      return out;
    }
  }

  /** All graph outputs from the graph inputs. */
  public Map<String, NDArray> run(Map<String, NDArray> inputs, NDManager resultManager) {
    return run(inputs, graphOutputs, resultManager);
  }

  /**
   * Starts timing each kernel by op type (CPU kernels run synchronously, so wall time is theirs;
   * on a GPU it measures launches). Returns the live table: op type to {nanoseconds, calls}.
   */
  public Map<String, long[]> startProfiling() {
    profile = new java.util.TreeMap<>();
    return profile;
  }

  /** Live arrays this executor holds between runs (weights and constants): flat across runs. */
  public int residentArrayCount() {
    return base.getManagedArrays().size();
  }

  @Override
  public void close() {
    base.close();
  }

  private void syncParameters() {
    parameters.forEachChanged(uploaded, (name, e) -> {
      NDArray old = resident.remove(name);
      if (old != null) {
        kept.remove(old);
        old.close();
      }
      NDArray array = base.create(e.values(), new Shape(e.shape()));
      array.setName(name);
      resident.put(name, keep(array));
    });
  }

  private NDArray keep(NDArray array) {
    kept.add(array);
    return array;
  }

  private int[] plan(Collection<String> fed, List<String> outputs) {
    return plans.computeIfAbsent(List.of(Set.copyOf(fed), List.copyOf(outputs)), k -> {
      boolean[] needed = new boolean[steps.size()];
      ArrayList<String> stack = new ArrayList<>(outputs);
      Set<String> seen = new java.util.HashSet<>();
      while (!stack.isEmpty()) {
        String value = stack.remove(stack.size() - 1);
        if (value.isEmpty() || !seen.add(value) || fed.contains(value) || resident.containsKey(value)
            || parameters.contains(value)) {
          continue;
        }
        Integer p = producer.get(value);
        if (p == null) {
          throw new IllegalArgumentException("tensor '" + value + "' is neither fed nor computed by the graph");
        }
        needed[p] = true;
        stack.addAll(steps.get(p).node().inputs());
      }
      return java.util.stream.IntStream.range(0, steps.size()).filter(i -> needed[i]).toArray();
    });
  }

  private List<Step> compile(OnnxModel model, OpRegistry ops) {
    List<NodeProto> sorted = Topology.sort(model);
    PlanContext context = new PlanContext() {
      @Override
      public NDManager constants() {
        return base;
      }

      @Override
      public NDArray keep(NDArray array) {
        return GraphExecutor.this.keep(array);
      }
    };
    List<Step> compiled = new ArrayList<>();
    List<String> unsupported = new ArrayList<>();
    for (NodeProto proto : sorted) {
      Node node = new Node(proto, model.opset());
      try {
        compiled.add(new Step(node, ops.compile(node, context)));
      } catch (UnsupportedModelException e) {
        unsupported.add(e.getMessage());
        continue;
      }
      for (String out : proto.getOutputList()) {
        producer.put(out, compiled.size() - 1);
      }
    }
    if (!unsupported.isEmpty()) {
      throw new UnsupportedModelException(String.join("; ", unsupported));
    }
    return compiled;
  }

  private static NDArray require(Map<String, NDArray> values, String name, Node node) {
    NDArray v = values.get(name);
    if (v == null) {
      throw new IllegalStateException(node.label() + ": input '" + name + "' was not computed");
    }
    return v;
  }
}
