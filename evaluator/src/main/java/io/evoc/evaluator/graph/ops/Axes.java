package io.evoc.evaluator.graph.ops;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import io.evoc.evaluator.graph.Tensors;

/** Axis arithmetic and indexing shared by the ops. */
final class Axes {
  private Axes() {}

  static int normalize(long axis, int rank) {
    long a = axis < 0 ? axis + rank : axis;
    if (a < 0 || a >= Math.max(rank, 1)) {
      throw new IllegalArgumentException("axis " + axis + " out of range for rank " + rank);
    }
    return (int) a;
  }

  static int[] normalize(long[] axes, int rank) {
    int[] out = new int[axes.length];
    for (int i = 0; i < axes.length; i++) {
      out[i] = normalize(axes[i], rank);
    }
    return out;
  }

  static long product(long[] dims, int from, int to) {
    long p = 1;
    for (int i = from; i < to; i++) {
      p *= dims[i];
    }
    return p;
  }

  /**
   * ONNX Gather semantics: picks entries of {@code x} along {@code axis} by an integer index
   * array of any shape, which replaces that axis in the result.
   */
  static NDArray take(NDArray x, int axis, NDArray index) {
    return x.get(new NDIndex(":,".repeat(axis) + "{}", index));
  }

  /** Host indices made into an int64 array on x's device for {@link #take}. */
  static NDArray take(NDArray x, int axis, long[] index) {
    try (NDArray idx = x.getManager().create(index)) {
      return take(x, axis, idx);
    }
  }

  /** An optional integer input (axes, pads, sizes) read on the host, or null when omitted or empty. */
  static long[] optionalLongs(NDArray a) {
    return a == null || a.size() == 0 ? null : Tensors.longs(a);
  }
}
