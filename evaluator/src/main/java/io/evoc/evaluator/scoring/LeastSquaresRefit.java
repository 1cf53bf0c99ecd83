package io.evoc.evaluator.scoring;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.evoc.evaluator.graph.ParameterTable;

/**
 * The {@code ls} repair: refits a Gemm or MatMul layer's surviving weights so that, fed the
 * student's own activations, the layer's output on the calibration set comes closest to the
 * teacher's. Each output row is a ridge regression on its surviving inputs; all rows are solved
 * together by conjugate gradients on the masked normal equations, on the scorer's device, so no
 * per-row factorization is ever formed. Zeros stay zero.
 */
public final class LeastSquaresRefit {
  /** Ridge strength relative to the mean diagonal of XᵀX: keeps rows with few inputs well posed. */
  private static final float RIDGE = 1e-3f;
  private static final float TINY = 1e-30f;

  private LeastSquaresRefit() {}

  /** Whether the layer can be refit (Gemm and MatMul; not Conv). */
  public static boolean supports(Layer layer) {
    return CandidateScorer.route(layer) == CandidateScorer.Route.DELTA;
  }

  /**
   * Refits the student's weights of {@code layer} in place (a new revision of the table).
   *
   * @param zeroed the layer's pruned entries, flat in the weight's layout
   * @param iterations conjugate-gradient steps; a fixed count keeps the result bit-reproducible
   */
  public static void refit(CandidateScorer scorer, Layer layer, boolean[] zeroed, int iterations) {
    if (!supports(layer)) {
      throw new IllegalArgumentException(layer.weight() + ": least-squares refit covers Gemm and MatMul, not "
          + layer.opType());
    }
    ParameterTable table = scorer.student();
    long[] shape = layer.shape();
    int out = (int) shape[layer.outAxis()];
    int in = (int) shape[layer.inAxis()];
    boolean outFirst = layer.outAxis() == 0;
    float alpha = scorer.alpha(layer);
    NDArray[] student = scorer.studentActivations(layer);
    NDArray teacherOut = scorer.teacherActivation(layer.output());
    float[] result;
    try (NDManager scope = student[0].getManager().newSubManager()) {
      NDArray x = attach(student[0].reshape(-1, in), scope);
      NDArray ys = attach(student[1].reshape(-1, out), scope);
      NDArray yt = attach(teacherOut.reshape(-1, out), scope);
      NDArray w = rows(scope.create(table.entry(layer.weight()).values(), new Shape(shape)), outFirst);
      NDArray mask = rows(scope.create(survivors(zeroed), new Shape(shape)), outFirst);
      // What the weight does not produce (bias, beta*C) is the same before and after the refit.
      NDArray rest = ys.sub(x.matMul(w.transpose()).mul(alpha));
      NDArray target = yt.sub(rest).div(alpha);
      NDArray gram = x.transpose().matMul(x);
      NDArray h = target.transpose().matMul(x).mul(mask);
      float ridge = RIDGE * gram.diagonal().mean().getFloat() + TINY;
      NDArray sol = w.mul(mask);
      NDArray r = h.sub(apply(sol, gram, mask, ridge));
      NDArray p = r;
      NDArray rs = r.square().sum(new int[] {1}, true);
      for (int i = 0; i < iterations; i++) {
        try (NDManager step = scope.newSubManager()) {
          NDArray ap = apply(p, gram, mask, ridge);
          NDArray a = rs.div(p.mul(ap).sum(new int[] {1}, true).maximum(TINY));
          NDArray nextSol = sol.add(a.mul(p));
          NDArray nextR = r.sub(a.mul(ap));
          NDArray nextRs = nextR.square().sum(new int[] {1}, true);
          NDArray nextP = nextR.add(nextRs.div(rs.maximum(TINY)).mul(p));
          for (NDArray keep : new NDArray[] {nextSol, nextR, nextRs, nextP}) {
            keep.attach(scope);
          }
          sol = nextSol;
          r = nextR;
          rs = nextRs;
          p = nextP;
        }
      }
      NDArray masked = sol.mul(mask);
      result = (outFirst ? masked : masked.transpose()).toFloatArray();
    }
    table.set(layer.weight(), result);
  }

  /** (M ∘ (P G)) + ridge P: the masked normal-equation operator, rows independent. */
  private static NDArray apply(NDArray p, NDArray gram, NDArray mask, float ridge) {
    return p.matMul(gram).mul(mask).add(p.mul(ridge));
  }

  /** The weight as [out, in] rows. */
  private static NDArray rows(NDArray weight, boolean outFirst) {
    return outFirst ? weight : weight.transpose();
  }

  private static NDArray attach(NDArray a, NDManager scope) {
    a.attach(scope);
    return a;
  }

  static float[] survivors(boolean[] zeroed) {
    float[] m = new float[zeroed.length];
    for (int i = 0; i < m.length; i++) {
      m[i] = zeroed[i] ? 0f : 1f;
    }
    return m;
  }
}
