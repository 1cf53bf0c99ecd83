package io.evoc.evaluator.scoring;

import java.util.Arrays;

/**
 * A prunable weight: the float initializer a Gemm, MatMul or Conv node multiplies its activation
 * by. Sparsification zeroes entries of {@code weight}; scoring caches {@code input}, the activation
 * the node reads, so a candidate runs from here on.
 *
 * @param weight initializer name (also the layer's name)
 * @param opType Gemm, MatMul or Conv
 * @param input the activation tensor the node multiplies by the weight
 * @param output the node's output tensor
 * @param shape the weight's shape
 * @param outAxis axis of {@code shape} that indexes output features (rows of Gemm with transB=1)
 * @param inAxis axis that indexes input features
 */
public record Layer(String weight, String opType, String input, String output, long[] shape, int outAxis, int inAxis) {
  public Layer {
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  public long size() {
    return Arrays.stream(shape).reduce(1, Math::multiplyExact);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Layer l && l.weight.equals(weight) && l.opType.equals(opType) && l.input.equals(input)
        && l.output.equals(output) && Arrays.equals(l.shape, shape) && l.outAxis == outAxis && l.inAxis == inAxis;
  }

  @Override
  public int hashCode() {
    return weight.hashCode();
  }
}
