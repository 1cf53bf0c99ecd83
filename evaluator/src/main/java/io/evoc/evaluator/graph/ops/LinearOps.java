package io.evoc.evaluator.graph.ops;

import ai.djl.ndarray.NDArray;
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
    return in -> {
      NDArray a = transA ? in[0].transpose() : in[0];
      NDArray b = transB ? in[1].transpose() : in[1];
      NDArray y = a.matMul(b);
      if (alpha != 1f) {
        y = y.mul(alpha);
      }
      NDArray bias = in.length > 2 ? in[2] : null;
      if (bias != null) {
        y = y.add(beta == 1f ? bias : bias.mul(beta));
      }
      return new NDArray[] {y};
    };
  }
}
