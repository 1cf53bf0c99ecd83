package io.evoc.evaluator.graph.ops;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Activation;
import io.evoc.evaluator.graph.Node;
import io.evoc.evaluator.graph.OpFactory;
import java.util.Map;

/** Arithmetic with broadcasting, activations, Clip, and the ops that pass their input through. */
final class ElementwiseOps {
  private ElementwiseOps() {}

  static void register(Map<String, OpFactory> r) {
    r.put("Add", (n, c) -> in -> new NDArray[] {in[0].add(in[1])});
    r.put("Sub", (n, c) -> in -> new NDArray[] {in[0].sub(in[1])});
    r.put("Mul", (n, c) -> in -> new NDArray[] {in[0].mul(in[1])});
    r.put("Div", (n, c) -> in -> new NDArray[] {divide(in[0], in[1])});
    r.put("Relu", (n, c) -> in -> new NDArray[] {Activation.relu(in[0])});
    r.put("Sigmoid", (n, c) -> in -> new NDArray[] {Activation.sigmoid(in[0])});
    r.put("Tanh", (n, c) -> in -> new NDArray[] {in[0].tanh()});
    r.put("LeakyRelu", (n, c) -> {
      float alpha = n.attrFloat("alpha", 0.01f);
      return in -> new NDArray[] {Activation.leakyRelu(in[0], alpha)};
    });
    r.put("Clip", ElementwiseOps::clip);
    r.put("Identity", (n, c) -> in -> new NDArray[] {in[0]});
    r.put("Dropout", ElementwiseOps::dropout);
  }

  /** ONNX divides integers with truncation; torch would return floats. */
  private static NDArray divide(NDArray a, NDArray b) {
    if (a.getDataType().isInteger() && b.getDataType().isInteger()) {
      try (NDArray q = a.toType(DataType.FLOAT64, false).div(b.toType(DataType.FLOAT64, false))) {
        return q.toType(a.getDataType(), false);
      }
    }
    return a.div(b);
  }

  private static io.evoc.evaluator.graph.Kernel clip(Node n, io.evoc.evaluator.graph.PlanContext c) {
    if (n.opset() < 11) {
      float min = n.attrFloat("min", -Float.MAX_VALUE);
      float max = n.attrFloat("max", Float.MAX_VALUE);
      return in -> new NDArray[] {in[0].clip(min, max)};
    }
    return in -> {
      NDArray x = in[0];
      NDArray lo = in.length > 1 ? in[1] : null;
      NDArray hi = in.length > 2 ? in[2] : null;
      if (lo != null && hi != null) {
        return new NDArray[] {x.clip(lo.getFloat(), hi.getFloat())};
      }
      if (lo != null) {
        return new NDArray[] {x.maximum(lo.getFloat())};
      }
      return new NDArray[] {hi != null ? x.minimum(hi.getFloat()) : x};
    };
  }

  /** Inference: output is the input; the optional mask output is all true. */
  private static io.evoc.evaluator.graph.Kernel dropout(Node n, io.evoc.evaluator.graph.PlanContext c) {
    boolean mask = n.outputs().size() > 1 && !n.outputs().get(1).isEmpty();
    return in -> mask
        ? new NDArray[] {in[0], in[0].getManager().ones(in[0].getShape(), DataType.BOOLEAN)}
        : new NDArray[] {in[0]};
  }
}
