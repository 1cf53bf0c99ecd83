package io.evoc.evaluator.scoring;

import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.onnx.NodeProto;
import java.util.List;

/** What a classifier's first output holds, judged by the op that produces it. */
public enum OutputKind {
  LOGITS,
  PROBABILITIES,
  LOG_PROBABILITIES;

  private static final List<String> PASS_THROUGH = List.of("Identity", "Dropout");

  /** Softmax means probabilities, LogSoftmax log-probabilities, anything else raw logits. */
  public static OutputKind detect(OnnxModel model) {
    String tensor = model.graph().getOutput(0).getName();
    for (int hops = 0; hops < model.graph().getNodeCount(); hops++) {
      NodeProto producer = producer(model, tensor);
      if (producer == null) {
        return LOGITS;
      }
      switch (producer.getOpType()) {
        case "Softmax":
          return PROBABILITIES;
        case "LogSoftmax":
          return LOG_PROBABILITIES;
        default:
          if (!PASS_THROUGH.contains(producer.getOpType())) {
            return LOGITS;
          }
          tensor = producer.getInput(0);
      }
    }
    return LOGITS;
  }

  private static NodeProto producer(OnnxModel model, String tensor) {
    for (NodeProto n : model.graph().getNodeList()) {
      if (n.getOutputList().contains(tensor)) {
        return n;
      }
    }
    return null;
  }
}
