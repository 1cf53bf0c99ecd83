package io.evoc.evaluator.graph.ops;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.evoc.evaluator.graph.Kernel;
import io.evoc.evaluator.graph.Node;
import io.evoc.evaluator.graph.OpFactory;
import io.evoc.evaluator.graph.PlanContext;
import io.evoc.evaluator.graph.Tensors;
import io.evoc.protocol.onnx.TensorProto;
import java.util.Arrays;
import java.util.Map;

/** Ops that move, select or describe elements without arithmetic. */
final class ShapeOps {
  private ShapeOps() {}

  static void register(Map<String, OpFactory> r) {
    r.put("Flatten", ShapeOps::flatten);
    r.put("Reshape", ShapeOps::reshape);
    r.put("Transpose", ShapeOps::transpose);
    r.put("Concat", ShapeOps::concat);
    r.put("Squeeze", ShapeOps::squeeze);
    r.put("Unsqueeze", ShapeOps::unsqueeze);
    r.put("Shape", ShapeOps::shape);
    r.put("Gather", ShapeOps::gather);
    r.put("Constant", ShapeOps::constant);
  }

  private static Kernel flatten(Node n, PlanContext c) {
    long axis = n.attrInt("axis", 1);
    return in -> {
      long[] d = in[0].getShape().getShape();
      int a = (int) (axis < 0 ? axis + d.length : axis);
      return new NDArray[] {in[0].reshape(Axes.product(d, 0, a), Axes.product(d, a, d.length))};
    };
  }

  private static Kernel reshape(Node n, PlanContext c) {
    boolean allowZero = n.attrInt("allowzero", 0) != 0;
    return in -> {
      long[] target = Tensors.longs(in[1]);
      long[] d = in[0].getShape().getShape();
      for (int i = 0; i < target.length; i++) {
        if (target[i] == 0 && !allowZero) {
          target[i] = d[i];
        }
      }
      return new NDArray[] {in[0].reshape(new Shape(target))};
    };
  }

  private static Kernel transpose(Node n, PlanContext c) {
    long[] perm = n.attrInts("perm", null);
    return in -> {
      int rank = in[0].getShape().dimension();
      int[] p = new int[rank];
      for (int i = 0; i < rank; i++) {
        p[i] = perm == null ? rank - 1 - i : (int) perm[i];
      }
      return new NDArray[] {in[0].transpose(p)};
    };
  }

  private static Kernel concat(Node n, PlanContext c) {
    long axis = n.attrInt("axis", 0);
    return in -> {
      NDList parts = new NDList();
      for (NDArray a : in) {
        if (a != null) {
          parts.add(a);
        }
      }
      int a = Axes.normalize(axis, parts.get(0).getShape().dimension());
      return new NDArray[] {parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, a)};
    };
  }

  private static Kernel squeeze(Node n, PlanContext c) {
    long[] attrAxes = n.attrInts("axes", null);
    return in -> {
      long[] axes = n.opset() < 13 ? attrAxes : Axes.optionalLongs(in.length > 1 ? in[1] : null);
      NDArray x = in[0];
      return new NDArray[] {
        axes == null ? x.squeeze() : x.squeeze(Axes.normalize(axes, x.getShape().dimension()))
      };
    };
  }

  private static Kernel unsqueeze(Node n, PlanContext c) {
    long[] attrAxes = n.attrInts("axes", null);
    return in -> {
      long[] axes = n.opset() < 13 ? attrAxes : Tensors.longs(in[1]);
      int[] sorted = Axes.normalize(axes, in[0].getShape().dimension() + axes.length);
      Arrays.sort(sorted);
      NDArray y = in[0];
      for (int a : sorted) {
        y = y.expandDims(a);
      }
      return new NDArray[] {y};
    };
  }

  private static Kernel shape(Node n, PlanContext c) {
    long start = n.attrInt("start", 0);
    Long end = n.has("end") ? n.attrInt("end", 0) : null;
    return in -> {
      long[] d = in[0].getShape().getShape();
      int from = clampAxis(start, d.length);
      int to = end == null ? d.length : clampAxis(end, d.length);
      long[] slice = Arrays.copyOfRange(d, from, Math.max(from, to));
      return new NDArray[] {in[0].getManager().create(slice)};
    };
  }

  private static Kernel gather(Node n, PlanContext c) {
    long axis = n.attrInt("axis", 0);
    return in -> {
      NDArray x = in[0];
      NDArray index = in[1].getDataType() == DataType.INT64 ? in[1] : in[1].toType(DataType.INT64, false);
      return new NDArray[] {Axes.take(x, Axes.normalize(axis, x.getShape().dimension()), index)};
    };
  }

  private static Kernel constant(Node n, PlanContext c) {
    NDManager m = c.constants();
    NDArray value;
    TensorProto t = n.attrTensor("value");
    if (t != null) {
      value = Tensors.fromProto(t, m);
    } else if (n.has("value_float")) {
      value = m.create(n.attrFloat("value_float", 0f));
    } else if (n.has("value_floats")) {
      value = m.create(n.attrFloats("value_floats", null));
    } else if (n.has("value_int")) {
      value = m.create(n.attrInt("value_int", 0));
    } else if (n.has("value_ints")) {
      value = m.create(n.attrInts("value_ints", null));
    } else {
      throw n.unsupported("only tensor, float and int constants are supported");
    }
    NDArray kept = c.keep(value);
    return in -> new NDArray[] {kept};
  }

  private static int clampAxis(long axis, int rank) {
    long a = axis < 0 ? axis + rank : axis;
    return (int) Math.max(0, Math.min(rank, a));
  }
}
