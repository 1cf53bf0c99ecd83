package io.evoc.evaluator.graph.ops;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import io.evoc.evaluator.graph.Node;
import java.util.Arrays;

/**
 * The sliding-window geometry that Conv and the pools share: kernel, strides, dilations and the
 * begin/end padding per spatial axis, with ONNX's auto_pad resolved against the input's size.
 */
final class Windows {
  final long[] kernel;
  final long[] strides;
  final long[] dilations;
  private final long[] pads;
  private final String autoPad;

  private Windows(long[] kernel, long[] strides, long[] dilations, long[] pads, String autoPad) {
    this.kernel = kernel;
    this.strides = strides;
    this.dilations = dilations;
    this.pads = pads;
    this.autoPad = autoPad;
  }

  /** Reads kernel_shape (or {@code kernel} when the op infers it from a weight), strides, dilations, pads, auto_pad. */
  static Windows of(Node n, long[] kernel) {
    long[] k = n.attrInts("kernel_shape", kernel);
    if (k == null) {
      throw n.unsupported("kernel_shape is missing");
    }
    int rank = k.length;
    long[] strides = n.attrInts("strides", ones(rank));
    long[] dilations = n.attrInts("dilations", ones(rank));
    long[] pads = n.attrInts("pads", new long[2 * rank]);
    String autoPad = n.attrString("auto_pad", "NOTSET");
    if (strides.length != rank || dilations.length != rank || pads.length != 2 * rank) {
      throw n.unsupported("strides, dilations and pads must match kernel rank " + rank);
    }
    if (!Arrays.asList("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID").contains(autoPad)) {
      throw n.unsupported("unknown auto_pad " + autoPad);
    }
    return new Windows(k, strides, dilations, pads, autoPad);
  }

  int rank() {
    return kernel.length;
  }

  /** Begin pads then end pads, for an input of {@code shape} (N, C, spatial...). */
  long[] pads(Shape shape) {
    int r = rank();
    switch (autoPad) {
      case "VALID":
        return new long[2 * r];
      case "SAME_UPPER":
      case "SAME_LOWER": {
        long[] p = new long[2 * r];
        for (int i = 0; i < r; i++) {
          long in = shape.get(2 + i);
          long out = (in + strides[i] - 1) / strides[i];
          long total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - in);
          long small = total / 2;
          boolean upper = autoPad.equals("SAME_UPPER");
          p[i] = upper ? small : total - small;
          p[i + r] = total - p[i];
        }
        return p;
      }
      default:
        return pads;
    }
  }

  /**
   * Output length along spatial axis {@code i}, and in {@code padsOut} the end padding grown so
   * that the last (ceil-mode) window lies wholly inside the padded input.
   */
  long[] outputAndFullPads(Shape shape, long[] pads, boolean ceil, long[] padsOut) {
    int r = rank();
    long[] out = new long[r];
    System.arraycopy(pads, 0, padsOut, 0, pads.length);
    for (int i = 0; i < r; i++) {
      long in = shape.get(2 + i);
      long span = (kernel[i] - 1) * dilations[i] + 1;
      long room = in + pads[i] + pads[i + r] - span;
      out[i] = (ceil ? Math.floorDiv(room + strides[i] - 1, strides[i]) : Math.floorDiv(room, strides[i])) + 1;
      // A ceil-mode window may not start in the end padding.
      if (ceil && (out[i] - 1) * strides[i] >= in + pads[i]) {
        out[i]--;
      }
      long need = (out[i] - 1) * strides[i] + span - (in + pads[i] + pads[i + r]);
      padsOut[i + r] += Math.max(0, need);
    }
    return out;
  }

  static boolean symmetric(long[] pads) {
    int r = pads.length / 2;
    for (int i = 0; i < r; i++) {
      if (pads[i] != pads[i + r]) {
        return false;
      }
    }
    return true;
  }

  /** Torch's constant_pad_nd order: last axis first, (begin, end) pairs. */
  static NDArray padSpatial(NDArray x, long[] pads, double value) {
    int r = pads.length / 2;
    long[] torch = new long[2 * r];
    for (int i = 0; i < r; i++) {
      torch[2 * i] = pads[r - 1 - i];
      torch[2 * i + 1] = pads[2 * r - 1 - i];
    }
    return x.pad(new Shape(torch), value);
  }

  static Shape begin(long[] pads) {
    return new Shape(Arrays.copyOf(pads, pads.length / 2));
  }

  static Shape shape(long[] v) {
    return new Shape(v);
  }

  private static long[] ones(int n) {
    long[] a = new long[n];
    Arrays.fill(a, 1);
    return a;
  }
}
