package io.evoc.evaluator.scoring;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.onnx.NodeProto;
import java.util.HashMap;
import java.util.Map;

/**
 * A Conv layer's input as rows of patches, [samples·positions, C·k₁·k₂…], so that its output is
 * patches · weightᵀ and the {@code ls} refit solves it as it solves a Gemm. The patches come from
 * the layer's own node run with an identity kernel (output channel j copies patch entry j), so
 * strides, pads, dilations and auto_pad are the node's, not a second implementation of them.
 * A grouped Conv (depthwise included) is one regression per group: its output channels see only
 * their group's input channels, so the patches and the outputs come as [groups, rows, ...].
 */
final class ConvPatches {
  private final Layer layer;
  private final String bias;
  private final int groups;
  /** Entries of one patch: the weight's size over its output channels. */
  private final int width;

  private ConvPatches(Layer layer, String bias, int groups) {
    this.layer = layer;
    this.bias = bias;
    this.groups = groups;
    this.width = (int) (layer.size() / layer.shape()[0]);
  }

  /** The layer's patches, or null where it is not a Conv. */
  static ConvPatches of(OnnxModel model, Layer layer) {
    if (!layer.opType().equals("Conv")) {
      return null;
    }
    for (NodeProto n : model.graph().getNodeList()) {
      if (n.getOpType().equals("Conv") && n.getOutputCount() > 0 && n.getOutput(0).equals(layer.output())) {
        String bias = n.getInputCount() > 2 ? n.getInput(2) : "";
        return new ConvPatches(layer, bias, (int) Layers.attr(n, "group", 1));
      }
    }
    return null;
  }

  int width() {
    return width;
  }

  int groups() {
    return groups;
  }

  /**
   * What turns the layer's node into the patch extractor: an identity kernel per group in place of
   * the weight and a zero bias. Made once per refit, in {@code scope}, and passed to every {@link
   * #rows} call.
   */
  Map<String, NDArray> identity(NDManager scope) {
    long[] kernel = layer.shape();
    kernel[0] = (long) groups * width;
    NDArray eye = scope.eye(width);
    Map<String, NDArray> feeds = new HashMap<>();
    feeds.put(layer.weight(), (groups == 1 ? eye : eye.tile(new long[] {groups, 1})).reshape(new Shape(kernel)));
    if (!bias.isEmpty()) {
      feeds.put(bias, scope.zeros(new Shape(kernel[0])));
    }
    return feeds;
  }

  /**
   * The patches of {@code x} (the layer's input, [n, C, ...]) as rows, attached to {@code scope}:
   * [rows, width] for one group, else [groups, rows, width].
   */
  NDArray rows(CandidateScorer scorer, NDArray x, Map<String, NDArray> identity, NDManager scope) {
    Map<String, NDArray> feeds = new HashMap<>(identity);
    feeds.put(layer.input(), x);
    return byGroup(channelsLast(scorer.runLayerNode(layer, feeds, scope)));
  }

  /** The layer's output [n, M, ...] as rows: [rows, M] for one group, else [groups, rows, M / groups]. */
  NDArray outputs(NDArray y) {
    return byGroup(channelsLast(y));
  }

  /** Rows [r, g·k] as [g, r, k]: each group's columns its own matrix. One group is left as it is. */
  private NDArray byGroup(NDArray rows) {
    return groups == 1 ? rows : rows.reshape(-1, groups, rows.getShape().get(1) / groups).transpose(1, 0, 2);
  }

  /** [n, C, s₁, s₂…] as rows [n·s₁·s₂…, C]: one row per output position. */
  private static NDArray channelsLast(NDArray y) {
    int rank = y.getShape().dimension();
    int[] order = new int[rank];
    order[0] = 0;
    for (int i = 1; i < rank - 1; i++) {
      order[i] = i + 1;
    }
    order[rank - 1] = 1;
    return y.transpose(order).reshape(-1, y.getShape().get(1));
  }
}
