package io.evoc.evaluator.train;

/**
 * One step of a teacher network, described once so that the DJL block that trains it and the ONNX
 * graph that exports it are built from the same list and cannot drift apart.
 */
sealed interface Layer {
  /** Fully connected; weight [units, in] as DJL stores it, exported as Gemm with transB=1. */
  record Dense(String name, int units) implements Layer {}

  /** Square kernel, stride 1, the same zero padding on every side. */
  record Conv(String name, int filters, int kernel, int pad) implements Layer {}

  record Relu() implements Layer {}

  /** Square window with stride equal to its size. */
  record MaxPool(int size) implements Layer {}

  /** [N, C, H, W] to [N, C*H*W], row-major in both DJL and ONNX. */
  record Flatten() implements Layer {}

  /** The prefix of this layer's weights ({@code fc1}), or null when it has none. */
  static String weightsName(Layer layer) {
    if (layer instanceof Dense d) {
      return d.name();
    }
    return layer instanceof Conv c ? c.name() : null;
  }
}
