package io.evoc.evaluator.scoring;

import java.util.Arrays;

/**
 * A prunable weight: the float initializer a Gemm, MatMul or Conv node multiplies its activation
 * by. Sparsification zeroes entries of {@code weight}; scoring caches {@code input}, the activation
 * the node reads, so a candidate runs from here on.
 *
 * @param weight initializer name (also the layer's name)
 * @param node the name of the node that multiplies by it ("" when the node has none)
 * @param opType Gemm, MatMul or Conv
 * @param input the activation tensor the node multiplies by the weight
 * @param output the node's output tensor
 * @param shape the weight's shape
 * @param outAxis axis of {@code shape} that indexes output features (rows of Gemm with transB=1)
 * @param inAxis axis that indexes input features
 */
public record Layer(String weight, String node, String opType, String input, String output, long[] shape, int outAxis,
    int inAxis) {
  public Layer {
    shape = shape.clone();
  }

  @Override
  public long[] shape() {
    return shape.clone();
  }

  /**
   * The name a person knows the layer by: the weight's, unless an exporter made it up ({@code
   * onnx::MatMul_208}, torch's name for a transposed Linear weight) and the node has a name
   * ({@code /encoder/layers.0/linear1/MatMul}).
   */
  public String label() {
    return weight.startsWith("onnx::") && !node.isEmpty() ? node : weight;
  }

  public long size() {
    return Arrays.stream(shape).reduce(1, Math::multiplyExact);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Layer l && l.weight.equals(weight) && l.node.equals(node) && l.opType.equals(opType)
        && l.input.equals(input) && l.output.equals(output) && Arrays.equals(l.shape, shape) && l.outAxis == outAxis
        && l.inAxis == inAxis;
  }

  @Override
  public int hashCode() {
    return weight.hashCode();
  }
}
