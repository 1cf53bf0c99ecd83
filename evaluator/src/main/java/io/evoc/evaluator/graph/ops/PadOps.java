package io.evoc.evaluator.graph.ops;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.evoc.evaluator.graph.Kernel;
import io.evoc.evaluator.graph.Node;
import io.evoc.evaluator.graph.OpFactory;
import io.evoc.evaluator.graph.PlanContext;
import io.evoc.evaluator.graph.Tensors;
import java.util.Map;

/** Pad: constant (negative pads crop), edge, reflect and wrap, on all axes or the listed ones. */
final class PadOps {
  private PadOps() {}

  static void register(Map<String, OpFactory> r) {
    r.put("Pad", PadOps::pad);
  }

  private static Kernel pad(Node n, PlanContext c) {
    String mode = n.attrString("mode", "constant");
    if (!java.util.List.of("constant", "edge", "reflect", "wrap").contains(mode)) {
      throw n.unsupported("unknown mode " + mode);
    }
    boolean fromInputs = n.opset() >= 11;
    long[] attrPads = n.attrInts("pads", null);
    float attrValue = n.attrFloat("value", 0f);
    return in -> {
      NDArray x = in[0];
      int rank = x.getShape().dimension();
      long[] given = fromInputs ? Tensors.longs(in[1]) : attrPads;
      float value = fromInputs && in.length > 2 && in[2] != null && in[2].size() > 0
          ? Tensors.floats(in[2])[0] : attrValue;
      long[] axes = fromInputs && in.length > 3 ? Axes.optionalLongs(in[3]) : null;
      long[] pads = expand(given, axes, rank);
      if (mode.equals("constant")) {
        long[] torch = new long[2 * rank];
        for (int i = 0; i < rank; i++) {
          torch[2 * i] = pads[rank - 1 - i];
          torch[2 * i + 1] = pads[2 * rank - 1 - i];
        }
        return new NDArray[] {x.pad(new Shape(torch), value)};
      }
      NDArray y = x;
      for (int axis = 0; axis < rank; axis++) {
        if (pads[axis] != 0 || pads[axis + rank] != 0) {
          y = Axes.take(y, axis, sources(mode, y.getShape().get(axis), pads[axis], pads[axis + rank]));
        }
      }
      return new NDArray[] {y};
    };
  }

  /** Pads for every axis (begins then ends) from pads given for {@code axes} (all when null). */
  private static long[] expand(long[] pads, long[] axes, int rank) {
    if (axes == null) {
      return pads;
    }
    long[] full = new long[2 * rank];
    int[] a = Axes.normalize(axes, rank);
    for (int i = 0; i < a.length; i++) {
      full[a[i]] = pads[i];
      full[a[i] + rank] = pads[i + a.length];
    }
    return full;
  }

  /** For each output position along an axis, the input position it copies. */
  private static long[] sources(String mode, long n, long begin, long end) {
    long[] src = new long[(int) (n + begin + end)];
    for (int i = 0; i < src.length; i++) {
      long j = i - begin;
      src[i] = switch (mode) {
        case "edge" -> Math.max(0, Math.min(n - 1, j));
        case "wrap" -> Math.floorMod(j, n);
        default -> reflect(j, n);
      };
    }
    return src;
  }

  private static long reflect(long j, long n) {
    if (n == 1) {
      return 0;
    }
    long period = 2 * (n - 1);
    long k = Math.floorMod(j, period);
    return k < n ? k : period - k;
  }
}
