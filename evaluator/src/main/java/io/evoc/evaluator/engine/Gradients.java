package io.evoc.evaluator.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * What DJL's {@code GradientCollector} does not offer: several backward passes through one
 * forward graph. Call inside an open collector (grad mode on).
 */
public final class Gradients {
  private Gradients() {}

  /** Backward of a scalar {@code loss}; {@code keepGraph} leaves the graph for another backward. */
  public static void backward(NDArray loss, boolean keepGraph) {
    NDArray seed = loss.onesLike();
    try {
      JniUtils.backward((PtNDArray) loss, (PtNDArray) seed, keepGraph, false);
    } finally {
      seed.close();
    }
  }

  /** Zeroes a leaf's accumulated gradient, so that the next backward's is its own. */
  public static void clear(NDArray leaf) {
    JniUtils.zeroGrad((PtNDArray) leaf);
  }
}
