package io.evoc.evaluator.scoring;

import io.evoc.evaluator.graph.Topology;
import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.onnx.NodeProto;
import io.evoc.protocol.onnx.ValueInfoProto;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Where a graph splits at a layer's output: the tensors that nodes downstream of it read but that do
 * not depend on it (a residual branch, a shape taken earlier). A candidate of the layer changes only
 * what is downstream, so these are computed once per cycle and fed with the candidate's layer output.
 */
final class Cut {
  private Cut() {}

  /** Tensors besides {@code tensor} that the nodes depending on it read, in node order. */
  static Set<String> besides(OnnxModel model, String tensor) {
    Set<String> constant = new HashSet<>(model.initializers().keySet());
    constant.add("");
    Set<String> cut = new LinkedHashSet<>();
    List<NodeProto> nodes = Topology.sort(model);
    Set<String> dependent = dependents(nodes, tensor);
    for (NodeProto n : nodes) {
      if (n.getInputList().stream().anyMatch(dependent::contains)) {
        for (String in : n.getInputList()) {
          if (!dependent.contains(in) && !constant.contains(in)) {
            cut.add(in);
          }
        }
      }
    }
    return cut;
  }

  /** Whether the model's first output depends on {@code tensor} at all. */
  static boolean reachesOutput(OnnxModel model, String tensor) {
    ValueInfoProto out = model.graph().getOutput(0);
    return dependents(Topology.sort(model), tensor).contains(out.getName());
  }

  /** {@code tensor} and every tensor computed from it, given nodes in topological order. */
  private static Set<String> dependents(List<NodeProto> sorted, String tensor) {
    Set<String> dependent = new HashSet<>(Set.of(tensor));
    for (NodeProto n : sorted) {
      if (n.getInputList().stream().anyMatch(dependent::contains)) {
        dependent.addAll(n.getOutputList());
      }
    }
    return dependent;
  }
}
