package io.evoc.evaluator.graph.ops;

import ai.djl.ndarray.NDArray;
import io.evoc.evaluator.graph.Kernel;
import io.evoc.evaluator.graph.Node;
import io.evoc.evaluator.graph.OpFactory;
import io.evoc.evaluator.graph.PlanContext;
import java.util.Map;

/** ReduceMean, ReduceSum, ReduceMax and ReduceMin over some axes or all of them. */
final class ReduceOps {
  private ReduceOps() {}

  /** One of NDArray's reductions: over {@code axes}, keeping them as size 1 or not. */
  private interface Reduction {
    NDArray apply(NDArray x, int[] axes, boolean keepDims);
  }

  static void register(Map<String, OpFactory> r) {
    // ReduceSum took its axes as an input from opset 13, the others from 18.
    r.put("ReduceMean", (n, c) -> reduce(n, 18, NDArray::mean));
    r.put("ReduceSum", (n, c) -> reduce(n, 13, NDArray::sum));
    r.put("ReduceMax", (n, c) -> reduce(n, 18, oneAxisAtATime(NDArray::max)));
    r.put("ReduceMin", (n, c) -> reduce(n, 18, oneAxisAtATime(NDArray::min)));
  }

  /** DJL's max and min take one axis per call: the last axis first, so the others keep their index. */
  private static Reduction oneAxisAtATime(Reduction f) {
    return (x, axes, keepDims) -> {
      int[] sorted = axes.clone();
      java.util.Arrays.sort(sorted);
      NDArray y = x;
      for (int i = sorted.length - 1; i >= 0; i--) {
        y = f.apply(y, new int[] {sorted[i]}, keepDims);
      }
      return y;
    };
  }

  private static Kernel reduce(Node n, long axesAsInput, Reduction f) {
    boolean keepDims = n.attrInt("keepdims", 1) != 0;
    boolean noopWhenEmpty = n.attrInt("noop_with_empty_axes", 0) != 0;
    long[] attrAxes = n.attrInts("axes", null);
    return in -> {
      NDArray x = in[0];
      long[] axes = n.opset() < axesAsInput ? attrAxes : Axes.optionalLongs(in.length > 1 ? in[1] : null);
      int rank = x.getShape().dimension();
      if (axes == null) {
        if (noopWhenEmpty) {
          return new NDArray[] {x};
        }
        axes = new long[rank];
        for (int i = 0; i < rank; i++) {
          axes[i] = i;
        }
      }
      return new NDArray[] {f.apply(x, Axes.normalize(axes, rank), keepDims)};
    };
  }
}
