package io.evoc.evaluator.graph.ops;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.core.Linear;
import io.evoc.evaluator.graph.Kernel;
import io.evoc.evaluator.graph.Node;
import io.evoc.evaluator.graph.OpFactory;
import io.evoc.evaluator.graph.PlanContext;
import java.util.Map;

/** Gemm and MatMul: the dense layers whose weights later stages edit. */
final class LinearOps {
  private LinearOps() {}

  static void register(Map<String, OpFactory> r) {
    r.put("MatMul", (n, c) -> in -> new NDArray[] {in[0].matMul(in[1])});
    r.put("Gemm", LinearOps::gemm);
  }

  private static Kernel gemm(Node n, PlanContext c) {
    float alpha = n.attrFloat("alpha", 1f);
    float beta = n.attrFloat("beta", 1f);
    boolean transA = n.attrInt("transA", 0) != 0;
    boolean transB = n.attrInt("transB", 0) != 0;
    // The layout PyTorch exports for nn.Linear: one fused torch linear (addmm), no separate add.
    boolean linear = !transA && transB && alpha == 1f && beta == 1f;
    return in -> {
      NDArray bias = in.length > 2 ? in[2] : null;
      if (linear && (bias == null || bias.getShape().dimension() == 1)) {
        return new NDArray[] {Linear.linear(in[0], in[1], bias).singletonOrThrow()};
      }
      NDArray a = transA ? in[0].transpose() : in[0];
      NDArray b = transB ? in[1].transpose() : in[1];
      NDArray y = a.matMul(b);
      if (alpha != 1f) {
        y = y.mul(alpha);
      }
      if (bias != null) {
        y = y.add(beta == 1f ? bias : bias.mul(beta));
      }
      return new NDArray[] {y};
    };
  }
}
