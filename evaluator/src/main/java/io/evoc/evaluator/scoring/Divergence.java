package io.evoc.evaluator.scoring;

import ai.djl.ndarray.NDArray;

/**
 * Teacher-student divergence on the device, for P candidates scored together: the student outputs
 * of candidate p are rows [p*N, (p+1)*N) of one batch, the teacher's are its N calibration rows.
 */
public final class Divergence {
  /** Probabilities are clamped here before the log, so that a zero never turns into NaN. */
  private static final float TINY = 1e-30f;

  private Divergence() {}

  /** Log-probabilities over the last axis, from a first output of the given kind. */
  public static NDArray logProbabilities(NDArray output, OutputKind kind) {
    return switch (kind) {
      case LOGITS -> output.logSoftmax(-1);
      case PROBABILITIES -> output.maximum(TINY).log();
      case LOG_PROBABILITIES -> output;
    };
  }

  /**
   * Mean over samples of KL(teacher || student), one value per candidate. An output with several
   * softmax rows per sample ([N, ..., C]) sums the KL of its rows.
   *
   * @param teacher teacher log-probabilities [N, ..., C]
   * @param students candidates' log-probabilities [P*N, ..., C]
   */
  public static float[] kl(NDArray teacher, NDArray students, int candidates) {
    long n = teacher.getShape().get(0);
    NDArray s = students.reshape(candidates, n, -1);
    NDArray t = teacher.reshape(1, n, -1);
    return t.exp().mul(t.sub(s)).sum(new int[] {2}).mean(new int[] {1}).toFloatArray();
  }

  /** Fraction of softmax rows (one per sample for [N, C]) whose top-1 class matches the teacher's, per candidate. */
  public static float[] agreement(NDArray teacher, NDArray students, int candidates) {
    NDArray top = teacher.argMax(-1).reshape(1, -1);
    NDArray studentTop = students.argMax(-1).reshape(candidates, -1);
    return studentTop.eq(top).toType(ai.djl.ndarray.types.DataType.FLOAT32, false).mean(new int[] {1}).toFloatArray();
  }

  /** Mean squared difference of all output values, one value per candidate (for non-classifiers). */
  public static float[] mse(NDArray teacher, NDArray students, int candidates) {
    NDArray s = students.reshape(candidates, -1);
    NDArray t = teacher.reshape(1, -1);
    return s.sub(t).square().mean(new int[] {1}).toFloatArray();
  }

  /** Mean KL(teacher || student) over a batch as one scalar array, for training: both [N, ..., C] log-probabilities. */
  public static NDArray klLoss(NDArray teacher, NDArray student) {
    long n = teacher.getShape().get(0);
    return teacher.exp().mul(teacher.sub(student.reshape(teacher.getShape()))).reshape(n, -1).sum(new int[] {1}).mean();
  }
}
