package io.evoc.evaluator.graph.ops;

import io.evoc.evaluator.graph.Kernel;
import io.evoc.evaluator.graph.Node;
import io.evoc.evaluator.graph.OpFactory;
import io.evoc.evaluator.graph.PlanContext;
import io.evoc.protocol.model.OnnxModel;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** The ops the fast executor covers, by ONNX op type (default domain only). */
public final class OpRegistry {
  private static final OpRegistry STANDARD = new OpRegistry(standardOps());

  private final Map<String, OpFactory> factories;

  private OpRegistry(Map<String, OpFactory> factories) {
    this.factories = Collections.unmodifiableMap(factories);
  }

  public static OpRegistry standard() {
    return STANDARD;
  }

  public Set<String> opTypes() {
    return factories.keySet();
  }

  public boolean covers(String opType) {
    return factories.containsKey(opType);
  }

  public Kernel compile(Node node, PlanContext context) {
    OpFactory f = factories.get(node.opType());
    if (f == null) {
      throw node.unsupported("op not covered by the fast executor");
    }
    return f.compile(node, context);
  }

  /** Op types of a model that the registry lacks, as {@link OnnxModel#opTypes()} spells them. */
  public Set<String> missing(OnnxModel model) {
    Set<String> out = new java.util.LinkedHashSet<>(model.opTypes());
    out.removeIf(this::covers);
    return out;
  }

  private static Map<String, OpFactory> standardOps() {
    Map<String, OpFactory> r = new TreeMap<>();
    ElementwiseOps.register(r);
    LinearOps.register(r);
    ConvOps.register(r);
    PoolOps.register(r);
    NormalizationOps.register(r);
    ReduceOps.register(r);
    ShapeOps.register(r);
    PadOps.register(r);
    ResizeOps.register(r);
    return r;
  }
}
