package io.evoc.evaluator.graph.ops;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.evoc.evaluator.graph.Kernel;
import io.evoc.evaluator.graph.Node;
import io.evoc.evaluator.graph.OpFactory;
import io.evoc.evaluator.graph.PlanContext;
import java.util.Map;

/** Conv: torch's convolution, with asymmetric padding applied to the input first. */
final class ConvOps {
  private ConvOps() {}

  static void register(Map<String, OpFactory> r) {
    r.put("Conv", ConvOps::conv);
  }

  private static Kernel conv(Node n, PlanContext c) {
    int group = (int) n.attrInt("group", 1);
    Windows w = n.has("kernel_shape") ? Windows.of(n, null) : null;
    return in -> {
      NDArray x = in[0];
      NDArray weight = in[1];
      NDArray bias = in.length > 2 ? in[2] : null;
      Windows win = w != null ? w : Windows.of(n, kernelOf(weight.getShape()));
      long[] pads = win.pads(x.getShape());
      Shape padding;
      if (Windows.symmetric(pads)) {
        padding = Windows.begin(pads);
      } else {
        x = Windows.padSpatial(x, pads, 0);
        padding = new Shape(new long[win.rank()]);
      }
      NDArray y = x.getNDArrayInternal().convolution(x, weight, bias, Windows.shape(win.strides), padding,
          Windows.shape(win.dilations), group).singletonOrThrow();
      return new NDArray[] {y};
    };
  }

  private static long[] kernelOf(Shape weight) {
    long[] k = new long[weight.dimension() - 2];
    for (int i = 0; i < k.length; i++) {
      k[i] = weight.get(2 + i);
    }
    return k;
  }
}
