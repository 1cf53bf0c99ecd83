package io.evoc.evaluator.graph.ops;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.norm.LayerNorm;
import io.evoc.evaluator.graph.Kernel;
import io.evoc.evaluator.graph.Node;
import io.evoc.evaluator.graph.OpFactory;
import io.evoc.evaluator.graph.PlanContext;
import java.util.Map;
import java.util.function.BiFunction;

/** BatchNormalization (inference), LayerNormalization, Softmax and LogSoftmax. */
final class NormalizationOps {
  private NormalizationOps() {}

  static void register(Map<String, OpFactory> r) {
    r.put("BatchNormalization", NormalizationOps::batchNorm);
    r.put("LayerNormalization", NormalizationOps::layerNorm);
    r.put("Softmax", (n, c) -> softmax(n, NDArray::softmax));
    r.put("LogSoftmax", (n, c) -> softmax(n, NDArray::logSoftmax));
  }

  private static Kernel batchNorm(Node n, PlanContext c) {
    if (n.attrInt("training_mode", 0) != 0) {
      throw n.unsupported("training_mode=1 is not supported");
    }
    if (n.opset() < 9 && n.attrInt("spatial", 1) == 0) {
      throw n.unsupported("spatial=0 is not supported");
    }
    float epsilon = n.attrFloat("epsilon", 1e-5f);
    // Inputs: X, scale, B, mean, var; torch takes (x, mean, var, weight, bias).
    return in -> new NDArray[] {
      BatchNorm.batchNorm(in[0], in[3], in[4], in[1], in[2], 1, 0f, epsilon, false).singletonOrThrow()
    };
  }

  /** LayerNormalization (opset 17) over the axes from {@code axis} on; its Y output only. */
  private static Kernel layerNorm(Node n, PlanContext c) {
    if (n.outputs().stream().skip(1).anyMatch(o -> !o.isEmpty())) {
      throw n.unsupported("the Mean and InvStdDev outputs are not supported");
    }
    long axis = n.attrInt("axis", -1);
    float epsilon = n.attrFloat("epsilon", 1e-5f);
    return in -> {
      NDArray x = in[0];
      long[] dims = x.getShape().getShape();
      int a = Axes.normalize(axis, dims.length);
      Shape normalized = new Shape(java.util.Arrays.copyOfRange(dims, a, dims.length));
      // DJL's layerNorm takes a bias always: zeros stand in for an absent one.
      NDArray bias = in.length > 2 && in[2] != null ? in[2] : x.getManager().zeros(normalized, x.getDataType());
      return new NDArray[] {
        LayerNorm.layerNorm(x, normalized, shaped(in[1], normalized), shaped(bias, normalized), epsilon)
            .singletonOrThrow()
      };
    };
  }

  /** ONNX lets scale and bias broadcast to the normalized shape; torch wants that shape exactly. */
  private static NDArray shaped(NDArray a, Shape normalized) {
    return a.getShape().equals(normalized) ? a : a.broadcast(normalized);
  }

  /**
   * Before opset 13 the op flattened its input to 2-D at {@code axis} (default 1) and normalised
   * each row; from 13 on it normalises along {@code axis} alone (default -1).
   */
  private static Kernel softmax(Node n, BiFunction<NDArray, Integer, NDArray> op) {
    boolean coerce = n.opset() < 13;
    long axis = n.attrInt("axis", coerce ? 1 : -1);
    return in -> {
      NDArray x = in[0];
      int rank = x.getShape().dimension();
      int a = Axes.normalize(axis, rank);
      if (!coerce || a == rank - 1) {
        return new NDArray[] {op.apply(x, a)};
      }
      long[] dims = x.getShape().getShape();
      NDArray flat = x.reshape(Axes.product(dims, 0, a), Axes.product(dims, a, rank));
      return new NDArray[] {op.apply(flat, 1).reshape(new Shape(dims))};
    };
  }
}
