package io.evoc.evaluator.scoring;

import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.model.TensorSpec;

/** How a student's first output is compared with the teacher's. */
public enum Metric {
  /** KL divergence of the softmax outputs, teacher first: for classifiers. */
  KL,
  /** Mean squared error: for any other output (detection heads, regression). */
  MSE;

  /**
   * KL for a classifier: an output of a Softmax or LogSoftmax, or logits of shape [batch, classes]
   * with at least two classes. MSE for anything else.
   */
  public static Metric detect(OnnxModel model) {
    if (OutputKind.detect(model) != OutputKind.LOGITS) {
      return KL;
    }
    TensorSpec out = model.outputs().get(0);
    long[] dims = out.dims();
    return dims.length == 2 && (dims[1] < 0 || dims[1] >= 2) ? KL : MSE;
  }

  public static Metric parse(String text, OnnxModel model) {
    return switch (text) {
      case "auto" -> detect(model);
      case "kl" -> KL;
      case "mse" -> MSE;
      default -> throw new IllegalArgumentException("divergence '" + text + "': expected auto, kl or mse");
    };
  }
}
