package io.evoc.evaluator.graph.ops;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import io.evoc.evaluator.graph.Kernel;
import io.evoc.evaluator.graph.Node;
import io.evoc.evaluator.graph.OpFactory;
import io.evoc.evaluator.graph.PlanContext;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

/** MaxPool, AveragePool and the global pools. */
final class PoolOps {
  private static final int MAX_SLICED_WINDOWS = 16;

  private PoolOps() {}

  static void register(Map<String, OpFactory> r) {
    r.put("MaxPool", PoolOps::maxPool);
    r.put("AveragePool", PoolOps::averagePool);
    r.put("GlobalAveragePool", (n, c) -> in -> new NDArray[] {global(in[0], (x, a) -> x.mean(a, true))});
    r.put("GlobalMaxPool", (n, c) -> in -> new NDArray[] {global(in[0], (x, a) -> x.max(a, true))});
  }

  private static Kernel maxPool(Node n, PlanContext c) {
    if (n.outputs().size() > 1 && !n.outputs().get(1).isEmpty()) {
      throw n.unsupported("the Indices output is not supported");
    }
    Windows w = Windows.of(n, null);
    boolean ceil = n.attrInt("ceil_mode", 0) != 0;
    boolean dilated = IntStream.range(0, w.rank()).anyMatch(i -> w.dilations[i] != 1);
    // torch's CPU max_pool2d computes indices in scalar loops: for small kernels, elementwise maxima
    // of strided views are about 4x faster (measured on LeNet-5's 2x2 pools); torch has no dilation.
    boolean slices = dilated || Axes.product(w.kernel, 0, w.rank()) <= MAX_SLICED_WINDOWS;
    return in -> {
      NDArray x = in[0];
      long[] pads = w.pads(x.getShape());
      if (slices) {
        return new NDArray[] {tiles(x, w, pads) ? tiledMax(x, w) : slicedMax(x, w, pads, ceil)};
      }
      Shape padding;
      if (Windows.symmetric(pads) && fitsTorch(pads, w.kernel)) {
        padding = Windows.begin(pads);
      } else {
        x = Windows.padSpatial(x, pads, Double.NEGATIVE_INFINITY);
        padding = new Shape(new long[w.rank()]);
      }
      return new NDArray[] {
        x.getNDArrayInternal().maxPool(Windows.shape(w.kernel), Windows.shape(w.strides), padding, ceil)
      };
    };
  }

  private static Kernel averagePool(Node n, PlanContext c) {
    Windows w = Windows.of(n, null);
    if (IntStream.range(0, w.rank()).anyMatch(i -> w.dilations[i] != 1)) {
      throw n.unsupported("dilated AveragePool is not supported");
    }
    boolean ceil = n.attrInt("ceil_mode", 0) != 0;
    boolean includePad = n.attrInt("count_include_pad", 0) != 0;
    // Before AveragePool-19, ONNX Runtime divides a ceil-mode window that overhangs the padded input
    // by the whole kernel (onnxruntime#16203); from 19 on it counts what fits, as torch does.
    boolean wholeKernel = includePad && ceil && n.opset() < 19;
    Shape kernel = Windows.shape(w.kernel);
    Shape strides = Windows.shape(w.strides);
    return in -> {
      NDArray x = in[0];
      long[] pads = w.pads(x.getShape());
      if (Windows.symmetric(pads) && fitsTorch(pads, w.kernel) && !wholeKernel) {
        return new NDArray[] {
          x.getNDArrayInternal().avgPool(kernel, strides, Windows.begin(pads), ceil, includePad)
        };
      }
      // Pad explicitly (torch pads only symmetrically); for the whole-kernel rule also pad the
      // overhang so that every window is whole.
      long[] full = pads;
      if (wholeKernel) {
        full = new long[pads.length];
        w.outputAndFullPads(x.getShape(), pads, true, full);
      }
      boolean torchCeil = ceil && !wholeKernel;
      Shape none = new Shape(new long[w.rank()]);
      NDArray mean = Windows.padSpatial(x, full, 0).getNDArrayInternal().avgPool(kernel, strides, none, torchCeil, true);
      if (includePad) {
        return new NDArray[] {mean};
      }
      // Average over real elements only: divide by the same pool of a padded mask of ones.
      long[] maskShape = x.getShape().getShape().clone();
      maskShape[0] = 1;
      maskShape[1] = 1;
      NDArray mask = Windows.padSpatial(x.getManager().ones(new Shape(maskShape)), full, 0);
      NDArray share = mask.getNDArrayInternal().avgPool(kernel, strides, none, torchCeil, true);
      return new NDArray[] {mean.div(share)};
    };
  }

  /** Torch pools only pad up to half a kernel on each side. */
  private static boolean fitsTorch(long[] pads, long[] kernel) {
    for (int i = 0; i < kernel.length; i++) {
      if (pads[i] > kernel[i] / 2) {
        return false;
      }
    }
    return true;
  }

  /** Max over the kernel's strided slices of the padded input: any dilation, any padding. */
  static NDArray slicedMax(NDArray x, Windows w, long[] pads, boolean ceil) {
    int r = w.rank();
    long[] extra = new long[pads.length];
    long[] out = w.outputAndFullPads(x.getShape(), pads, ceil, extra);
    boolean none = java.util.Arrays.stream(extra).allMatch(p -> p == 0);
    NDArray padded = none ? x : Windows.padSpatial(x, extra, Double.NEGATIVE_INFINITY);
    NDArray best = null;
    int windows = (int) Axes.product(w.kernel, 0, r);
    for (int k = 0; k < windows; k++) {
      long[] offset = new long[r];
      for (int i = r - 1, rest = k; i >= 0; i--) {
        offset[i] = (rest % w.kernel[i]) * w.dilations[i];
        rest /= (int) w.kernel[i];
      }
      NDIndex index = new NDIndex().addAllDim().addAllDim();
      for (int i = 0; i < r; i++) {
        index.addSliceDim(offset[i], offset[i] + (out[i] - 1) * w.strides[i] + 1, w.strides[i]);
      }
      NDArray slice = padded.get(index);
      best = best == null ? slice : best.maximum(slice);
    }
    return best;
  }

  /** Whether the windows tile the input: no padding or dilation, strides equal to the kernel, dividing each axis. */
  private static boolean tiles(NDArray x, Windows w, long[] pads) {
    for (int i = 0; i < w.rank(); i++) {
      if (w.dilations[i] != 1 || w.strides[i] != w.kernel[i] || x.getShape().get(2 + i) % w.kernel[i] != 0) {
        return false;
      }
    }
    return java.util.Arrays.stream(pads).allMatch(p -> p == 0);
  }

  /**
   * {@link #slicedMax} for windows that tile the input, with the same values and gradient: the
   * window offsets are split off the reshaped input as views, in the same order. Autograd then
   * joins their gradients with one concatenation per axis; behind strided slices it fills a zeroed
   * copy of the input per offset and adds them up (LeNet-5's curvature on 10,000 samples spent
   * most of its backward there).
   */
  static NDArray tiledMax(NDArray x, Windows w) {
    int r = w.rank();
    long[] shape = new long[2 + 2 * r];
    long[] out = new long[2 + r];
    shape[0] = out[0] = x.getShape().get(0);
    shape[1] = out[1] = x.getShape().get(1);
    for (int i = 0; i < r; i++) {
      shape[2 + 2 * i] = out[2 + i] = x.getShape().get(2 + i) / w.kernel[i];
      shape[3 + 2 * i] = w.kernel[i];
    }
    List<NDArray> pieces = List.of(x.reshape(new Shape(shape)));
    for (int i = 0; i < r; i++) { // the last axis's offset varies fastest, as in slicedMax
      List<NDArray> next = new ArrayList<>();
      for (NDArray p : pieces) {
        next.addAll(p.split(w.kernel[i], 3 + 2 * i));
      }
      pieces = next;
    }
    NDArray best = null;
    for (NDArray p : pieces) {
      best = best == null ? p : best.maximum(p);
    }
    return best.reshape(new Shape(out));
  }

  /** Reduces every spatial axis, keeping it as size 1; torch's reductions here take one axis at a time. */
  private static NDArray global(NDArray x, java.util.function.BiFunction<NDArray, int[], NDArray> reduce) {
    NDArray y = x;
    for (int a = x.getShape().dimension() - 1; a >= 2; a--) {
      y = reduce.apply(y, new int[] {a});
    }
    return y;
  }
}
