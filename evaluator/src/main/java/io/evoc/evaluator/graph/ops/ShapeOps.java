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
    r.put("Slice", ShapeOps::slice);
    r.put("Expand", (n, c) -> in -> new NDArray[] {expand(in[0], Tensors.longs(in[1]))});
  }

  /**
   * Slice: starts, ends, axes and steps as attributes before opset 10 (no steps), as inputs from
   * then on, clamped to each axis as ONNX clamps them. A negative step picks its indices on the
   * host, since torch's slicing takes positive steps only.
   */
  private static Kernel slice(Node n, PlanContext c) {
    boolean attributes = n.opset() < 10;
    long[] attrStarts = n.attrInts("starts", null);
    long[] attrEnds = n.attrInts("ends", null);
    long[] attrAxes = n.attrInts("axes", null);
    return in -> {
      NDArray x = in[0];
      long[] starts = attributes ? attrStarts : Tensors.longs(in[1]);
      long[] ends = attributes ? attrEnds : Tensors.longs(in[2]);
      long[] axes = attributes ? attrAxes : Axes.optionalLongs(in.length > 3 ? in[3] : null);
      long[] steps = attributes ? null : Axes.optionalLongs(in.length > 4 ? in[4] : null);
      long[] dims = x.getShape().getShape();
      String[] index = new String[dims.length];
      Arrays.fill(index, ":");
      NDArray y = x;
      for (int i = 0; i < starts.length; i++) {
        int axis = Axes.normalize(axes == null ? i : axes[i], dims.length);
        long step = steps == null ? 1 : steps[i];
        if (step == 0) {
          throw new IllegalArgumentException("Slice step 0 on axis " + axis);
        }
        long dim = dims[axis];
        long start = clampSliceBound(starts[i], dim, step);
        long end = clampSliceBound(ends[i], dim, step);
        if (step > 0) {
          index[axis] = start + ":" + Math.max(start, end) + (step == 1 ? "" : ":" + step);
        } else {
          long count = Math.max(0, (start - end + (-step) - 1) / (-step));
          long[] picked = new long[(int) count];
          for (int k = 0; k < count; k++) {
            picked[k] = start + k * step;
          }
          y = Axes.take(y, axis, picked);
        }
      }
      return new NDArray[] {y.get(String.join(",", index))};
    };
  }

  /** ONNX's clamping of a Slice start or end: negatives count from the end, then into range. */
  private static long clampSliceBound(long bound, long dim, long step) {
    long b = bound < 0 ? bound + dim : bound;
    return step > 0 ? Math.max(0, Math.min(dim, b)) : Math.max(-1, Math.min(dim - 1, b));
  }

  /** Expand: broadcasts both ways, the target's 1s keeping the input's size. */
  private static NDArray expand(NDArray x, long[] shape) {
    long[] d = x.getShape().getShape();
    int rank = Math.max(d.length, shape.length);
    long[] target = new long[rank];
    for (int i = 0; i < rank; i++) {
      long a = i - (rank - d.length) >= 0 ? d[i - (rank - d.length)] : 1;
      long b = i - (rank - shape.length) >= 0 ? shape[i - (rank - shape.length)] : 1;
      target[i] = b == 1 ? a : b;
    }
    NDArray y = x;
    while (y.getShape().dimension() < rank) {
      y = y.expandDims(0);
    }
    return y.broadcast(new Shape(target));
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
      // create() wraps a Java buffer that lives only as long as the array made from it; a view of
      // that array (a Gather with a scalar index, a Slice) kept past the run would read freed
      // memory. A copy is libtorch's own.
      NDArray host = in[0].getManager().create(slice);
      return new NDArray[] {host.duplicate()};
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
