package io.evoc.evaluator.graph;

import io.evoc.protocol.model.InvalidModelException;
import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.onnx.NodeProto;
import io.evoc.protocol.onnx.ValueInfoProto;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Orders nodes so each runs after its inputs' producers; files in the wild are not always sorted. */
public final class Topology {
  private Topology() {}

  public static List<NodeProto> sort(OnnxModel model) {
    List<NodeProto> nodes = model.graph().getNodeList();
    Set<String> available = new HashSet<>(model.initializers().keySet());
    for (ValueInfoProto in : model.graph().getInputList()) {
      available.add(in.getName());
    }
    available.add("");
    Map<String, Integer> producer = new HashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      for (String out : nodes.get(i).getOutputList()) {
        if (!out.isEmpty() && producer.put(out, i) != null) {
          throw new InvalidModelException(model.source() + ": tensor '" + out + "' is produced by two nodes");
        }
      }
    }
    int[] pending = new int[nodes.size()];
    Map<Integer, List<Integer>> consumers = new HashMap<>();
    for (int i = 0; i < nodes.size(); i++) {
      for (String in : nodes.get(i).getInputList()) {
        if (available.contains(in)) {
          continue;
        }
        Integer p = producer.get(in);
        if (p == null) {
          throw new InvalidModelException(model.source() + ": node " + nodes.get(i).getOpType() + " '"
              + nodes.get(i).getName() + "' reads '" + in + "', which no input, initializer or node provides");
        }
        pending[i]++;
        consumers.computeIfAbsent(p, k -> new ArrayList<>()).add(i);
      }
    }
    ArrayDeque<Integer> ready = new ArrayDeque<>();
    for (int i = 0; i < nodes.size(); i++) {
      if (pending[i] == 0) {
        ready.add(i);
      }
    }
    List<NodeProto> order = new ArrayList<>(nodes.size());
    while (!ready.isEmpty()) {
      int i = ready.poll();
      order.add(nodes.get(i));
      for (int c : consumers.getOrDefault(i, List.of())) {
        if (--pending[c] == 0) {
          ready.add(c);
        }
      }
    }
    if (order.size() != nodes.size()) {
      throw new InvalidModelException(model.source() + ": the graph has a cycle");
    }
    return order;
  }
}
