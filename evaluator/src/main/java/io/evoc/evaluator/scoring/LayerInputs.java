package io.evoc.evaluator.scoring;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.graph.Topology;
import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.onnx.NodeProto;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Layer inputs as the student last gave them on a set of rows (the calibration batch, or a chunk of
 * the refits' inputs), reused while no weight upstream of them has changed: a layer's forward pass
 * then starts from the deepest one still valid instead of the model's input. A search's cycles
 * move between layers after every commit, and on LeNet-5 the fully connected layers' cycles and
 * refits, most of them, no longer rerun the convolutions. Only tensors that alone decide
 * everything downstream (no branch around them) are kept, within a budget. A fed tensor goes
 * through the same nodes as a computed one, so the scores are the same bits (tested).
 */
final class LayerInputs implements AutoCloseable {
  /** What the kept tensors may take together. */
  private static final long BUDGET_BYTES = 256L << 20;

  private final ParameterTable student;
  private final NDManager arrays;
  /** Per keepable tensor, deepest last: the weights it is computed from. */
  private final Map<String, List<String>> upstream = new LinkedHashMap<>();
  /** Per layer: the keepable tensors its input is computed from (or is), deepest last. */
  private final Map<String, List<String>> sources = new HashMap<>();
  private final Map<Slot, Kept> kept = new HashMap<>();
  private long bytes;

  private record Kept(NDArray value, long[] versions) {}

  /** A tensor on a set of rows, named by the caller's key (compared with equals). */
  private record Slot(String tensor, Object rows) {}

  /** Where a forward pass starts: a kept tensor and its value, or the model's input when null. */
  record Start(String name, NDArray value) {}

  LayerInputs(OnnxModel model, Collection<Layer> layers, ParameterTable student, NDManager parent) {
    this.student = student;
    this.arrays = parent.newSubManager();
    List<NodeProto> sorted = Topology.sort(model);
    Map<String, Integer> depth = new HashMap<>();
    Map<String, NodeProto> producer = new HashMap<>();
    for (int i = 0; i < sorted.size(); i++) {
      for (String out : sorted.get(i).getOutputList()) {
        depth.put(out, i);
        producer.put(out, sorted.get(i));
      }
    }
    List<String> keepable = layers.stream().map(Layer::input).distinct().filter(depth::containsKey)
        .filter(t -> Cut.besides(model, t).isEmpty()).sorted(java.util.Comparator.comparing(depth::get)).toList();
    for (String t : keepable) {
      upstream.put(t, ancestors(t, producer).stream().filter(student::contains).sorted().toList());
    }
    for (Layer layer : layers) {
      Set<String> before = ancestors(layer.input(), producer);
      before.add(layer.input());
      sources.put(layer.weight(), keepable.stream().filter(before::contains).toList());
    }
  }

  /**
   * The deepest tensor kept on {@code rows} that {@code layer}'s input is computed from and no
   * weight change has made stale; null if none.
   */
  Start start(Layer layer, Object rows) {
    List<String> from = sources.get(layer.weight());
    for (int i = from.size() - 1; i >= 0; i--) {
      Kept k = kept.get(new Slot(from.get(i), rows));
      if (k != null && Arrays.equals(k.versions(), versions(from.get(i)))) {
        return new Start(from.get(i), k.value());
      }
    }
    return null;
  }

  /** The tensors worth asking a forward pass from {@code start} for, to keep: the deeper sources of {@code layer}. */
  List<String> toKeep(Layer layer, Start start) {
    List<String> from = sources.get(layer.weight());
    return start == null ? from : from.subList(from.indexOf(start.name()) + 1, from.size());
  }

  /** Keeps copies of what a forward pass on {@code rows} computed of {@code names}, as of the current weights. */
  void keep(List<String> names, Map<String, NDArray> computed, Object rows) {
    for (String name : names) {
      NDArray value = computed.get(name);
      Kept old = kept.remove(new Slot(name, rows));
      if (old != null) {
        bytes -= old.value().size() * 4;
        old.value().close();
      }
      if (value == null || bytes + value.size() * 4 > BUDGET_BYTES) {
        continue;
      }
      NDArray copy = value.duplicate();
      copy.attach(arrays);
      kept.put(new Slot(name, rows), new Kept(copy, versions(name)));
      bytes += copy.size() * 4;
    }
  }

  private long[] versions(String tensor) {
    List<String> weights = upstream.get(tensor);
    long[] v = new long[weights.size()];
    for (int i = 0; i < v.length; i++) {
      v[i] = student.entry(weights.get(i)).version();
    }
    return v;
  }

  /** Every tensor {@code tensor} is computed from, weights included. */
  private static Set<String> ancestors(String tensor, Map<String, NodeProto> producer) {
    Set<String> seen = new HashSet<>();
    List<String> stack = new ArrayList<>(List.of(tensor));
    while (!stack.isEmpty()) {
      NodeProto n = producer.get(stack.remove(stack.size() - 1));
      if (n == null) {
        continue;
      }
      for (String in : n.getInputList()) {
        if (!in.isEmpty() && seen.add(in)) {
          stack.add(in);
        }
      }
    }
    return seen;
  }

  @Override
  public void close() {
    arrays.close();
  }
}
