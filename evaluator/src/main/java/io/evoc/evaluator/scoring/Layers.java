package io.evoc.evaluator.scoring;

import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.model.TensorData;
import io.evoc.protocol.onnx.AttributeProto;
import io.evoc.protocol.onnx.NodeProto;
import io.evoc.protocol.onnx.TensorProto;
import java.util.ArrayList;
import java.util.List;

/** Finds a model's prunable layers: weights of Gemm, MatMul and Conv; other ops pass through. */
public final class Layers {
  private Layers() {}

  /** The layers in node order. A weight shared by two nodes is listed once, at its first use. */
  public static List<Layer> of(OnnxModel model) {
    List<Layer> layers = new ArrayList<>();
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (NodeProto n : model.graph().getNodeList()) {
      if (!OnnxModel.isDefaultDomain(n.getDomain()) || n.getInputCount() < 2) {
        continue;
      }
      Layer layer = switch (n.getOpType()) {
        case "Gemm" -> gemm(model, n);
        case "MatMul" -> matMul(model, n);
        case "Conv" -> floatWeight(model, n.getInput(1)) ? new Layer(n.getInput(1), n.getName(), "Conv",
            n.getInput(0), n.getOutput(0), shape(model, n.getInput(1)), 0, 1) : null;
        default -> null;
      };
      if (layer != null && seen.add(layer.weight())) {
        layers.add(layer);
      }
    }
    return layers;
  }

  private static Layer gemm(OnnxModel model, NodeProto n) {
    if (!floatWeight(model, n.getInput(1)) || attr(n, "transA", 0) != 0) {
      return null;
    }
    boolean transB = attr(n, "transB", 0) != 0;
    return new Layer(n.getInput(1), n.getName(), "Gemm", n.getInput(0), n.getOutput(0),
        shape(model, n.getInput(1)), transB ? 0 : 1, transB ? 1 : 0);
  }

  /** x @ W (weight second, [in, out]) or W @ x (weight first, [out, in]). */
  private static Layer matMul(OnnxModel model, NodeProto n) {
    if (floatWeight(model, n.getInput(1)) && shape(model, n.getInput(1)).length == 2) {
      return new Layer(n.getInput(1), n.getName(), "MatMul", n.getInput(0), n.getOutput(0),
          shape(model, n.getInput(1)), 1, 0);
    }
    if (floatWeight(model, n.getInput(0)) && shape(model, n.getInput(0)).length == 2) {
      return new Layer(n.getInput(0), n.getName(), "MatMul", n.getInput(1), n.getOutput(0),
          shape(model, n.getInput(0)), 0, 1);
    }
    return null;
  }

  private static boolean floatWeight(OnnxModel model, String name) {
    TensorProto t = model.initializers().get(name);
    return t != null && t.getDataType() == TensorProto.DataType.FLOAT_VALUE && t.getDimsCount() >= 2;
  }

  private static long[] shape(OnnxModel model, String name) {
    return TensorData.dims(model.initializers().get(name));
  }

  /** An integer attribute of the node, or {@code fallback} where it is absent. */
  static long attr(NodeProto n, String name, long fallback) {
    for (AttributeProto a : n.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getI();
      }
    }
    return fallback;
  }
}
