package io.evoc.evaluator.graph.ops;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Activation;
import io.evoc.evaluator.graph.Kernel;
import io.evoc.evaluator.graph.Node;
import io.evoc.evaluator.graph.OpFactory;
import io.evoc.evaluator.graph.PlanContext;
import io.evoc.protocol.model.DataTypes;
import io.evoc.protocol.onnx.TensorProto;
import java.util.Map;
import java.util.function.BinaryOperator;
import java.util.function.UnaryOperator;

/**
 * Arithmetic with broadcasting, unary math, comparisons and selection, Cast, activations, Clip, and
 * the ops that pass their input through.
 */
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
    unary(r, "Neg", NDArray::neg);
    unary(r, "Abs", NDArray::abs);
    unary(r, "Sqrt", NDArray::sqrt);
    unary(r, "Exp", NDArray::exp);
    unary(r, "Log", NDArray::log);
    unary(r, "Erf", NDArray::erf);
    unary(r, "Reciprocal", x -> x.getManager().ones(x.getShape(), x.getDataType()).div(x));
    r.put("Pow", (n, c) -> in -> new NDArray[] {power(in[0], in[1])});
    r.put("Equal", (n, c) -> in -> new NDArray[] {in[0].eq(in[1])});
    r.put("Where", (n, c) -> in -> new NDArray[] {NDArrays.where(in[0], in[1], in[2])});
    r.put("Max", (n, c) -> variadic(NDArray::maximum));
    r.put("Min", (n, c) -> variadic(NDArray::minimum));
    r.put("Cast", ElementwiseOps::cast);
    r.put("Gelu", ElementwiseOps::gelu);
    r.put("Clip", ElementwiseOps::clip);
    r.put("Identity", (n, c) -> in -> new NDArray[] {in[0]});
    r.put("Dropout", ElementwiseOps::dropout);
  }

  private static void unary(Map<String, OpFactory> r, String op, UnaryOperator<NDArray> f) {
    r.put(op, (n, c) -> in -> new NDArray[] {f.apply(in[0])});
  }

  /** Max and Min of any number of inputs, broadcast together. */
  private static Kernel variadic(BinaryOperator<NDArray> f) {
    return in -> {
      NDArray y = in[0];
      for (int i = 1; i < in.length; i++) {
        y = f.apply(y, in[i]);
      }
      return new NDArray[] {y};
    };
  }

  /** ONNX Pow keeps the base's type whatever the exponent's. */
  private static NDArray power(NDArray base, NDArray exponent) {
    return base.pow(exponent.getDataType() == base.getDataType() ? exponent : exponent.toType(base.getDataType(), false));
  }

  private static Kernel cast(Node n, PlanContext c) {
    int to = (int) n.attrInt("to", 0);
    TensorProto.DataType onnx = TensorProto.DataType.forNumber(to);
    DataType type = switch (onnx == null ? TensorProto.DataType.UNDEFINED : onnx) {
      case FLOAT -> DataType.FLOAT32;
      case DOUBLE -> DataType.FLOAT64;
      case INT64 -> DataType.INT64;
      case INT32 -> DataType.INT32;
      case INT8 -> DataType.INT8;
      case UINT8 -> DataType.UINT8;
      case BOOL -> DataType.BOOLEAN;
      default -> throw n.unsupported("Cast to " + DataTypes.name(to) + " is not supported");
    };
    return in -> new NDArray[] {in[0].getDataType() == type ? in[0] : in[0].toType(type, false)};
  }

  /** Gelu (opset 20): exact, x·Φ(x), or the tanh approximation. */
  private static Kernel gelu(Node n, PlanContext c) {
    String approximate = n.attrString("approximate", "none");
    if (approximate.equals("tanh")) {
      float k = (float) Math.sqrt(2 / Math.PI);
      return in -> {
        NDArray x = in[0];
        NDArray inner = x.mul(x).mul(x).mul(0.044715f).add(x).mul(k);
        return new NDArray[] {x.mul(0.5f).mul(inner.tanh().add(1f))};
      };
    }
    if (!approximate.equals("none")) {
      throw n.unsupported("approximate='" + approximate + "' is not supported");
    }
    float rootHalf = (float) Math.sqrt(0.5);
    return in -> new NDArray[] {in[0].mul(0.5f).mul(in[0].mul(rootHalf).erf().add(1f))};
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

  private static Kernel clip(Node n, PlanContext c) {
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
  private static Kernel dropout(Node n, PlanContext c) {
    boolean mask = n.outputs().size() > 1 && !n.outputs().get(1).isEmpty();
    return in -> mask
        ? new NDArray[] {in[0], in[0].getManager().ones(in[0].getShape(), DataType.BOOLEAN)}
        : new NDArray[] {in[0]};
  }
}
