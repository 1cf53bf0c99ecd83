package io.evoc.evaluator.scoring;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.graph.ParameterTable;
import java.util.Map;

/**
 * The {@code ls} repair: refits a Gemm, MatMul or Conv layer's surviving weights so that, fed the
 * student's own activations, the layer's output on calibration inputs comes closest to the
 * teacher's. Each output row (a Conv's output channel, over every position, see {@link
 * ConvPatches}) is a ridge regression on its surviving inputs; all rows are solved together by
 * conjugate gradients on the masked normal equations, on the scorer's device, so no per-row
 * factorization is ever formed. A grouped Conv has one set of normal equations per group, held as
 * a batch of matrices. Zeros stay zero.
 */
public final class LeastSquaresRefit {
  /** Ridge strength relative to the mean diagonal of XᵀX: keeps rows with few inputs well posed. */
  private static final float RIDGE = 1e-3f;
  private static final float TINY = 1e-30f;
  /** Inputs per pass when accumulating the normal equations: bounds the activations held at once. */
  private static final int CHUNK = 1000;
  /** Conv patch entries formed at once: a 3×3×256 layer on 56×56 maps has 7.2M per input. */
  private static final long PATCH_ENTRIES = 1L << 24;

  private LeastSquaresRefit() {}

  /** Whether the layer can be refit: Gemm, MatMul with the weight second, and Conv. */
  public static boolean supports(CandidateScorer scorer, Layer layer) {
    return CandidateScorer.route(layer) == CandidateScorer.Route.DELTA || ConvPatches.of(scorer.model(), layer) != null;
  }

  /**
   * Refits the student's weights of {@code layer} in place (a new revision of the table).
   *
   * @param zeroed the layer's pruned entries, flat in the weight's layout
   * @param inputs what the normal equations are accumulated over, model inputs [N, ...]: more rows
   *     than the scorer's batch keep repeated refits from fitting that batch's noise
   * @param iterations conjugate-gradient steps; a fixed count keeps the result bit-reproducible
   */
  public static void refit(CandidateScorer scorer, Layer layer, boolean[] zeroed, HostTensor inputs, int iterations) {
    refit(scorer, layer, zeroed, inputs, iterations, PATCH_ENTRIES);
  }

  /** As above, forming at most {@code patchEntries} Conv patch entries at once. */
  static void refit(CandidateScorer scorer, Layer layer, boolean[] zeroed, HostTensor inputs, int iterations,
      long patchEntries) {
    ConvPatches conv = ConvPatches.of(scorer.model(), layer);
    if (CandidateScorer.route(layer) != CandidateScorer.Route.DELTA && conv == null) {
      throw new IllegalArgumentException(layer.weight() + ": least-squares refit covers Gemm, MatMul with the weight "
          + "second and Conv; this " + layer.opType() + " is none of them");
    }
    ParameterTable table = scorer.student();
    int out = (int) layer.shape()[layer.outAxis()];
    int in = (int) (layer.size() / out);
    boolean outFirst = layer.outAxis() == 0;
    float alpha = scorer.alpha(layer);
    // A grouped Conv's rows [out, in] as [groups, out / groups, in]; everything below works on the
    // last two axes, so one group keeps the plain matrices (and their bits).
    int groups = conv == null ? 1 : conv.groups();
    Shape grouped = groups == 1 ? new Shape(out, in) : new Shape(groups, out / groups, in);
    int last = grouped.dimension() - 1;
    float[] result;
    try (NDManager scope = scorer.manager().newSubManager()) {
      Shape rowsShape = outFirst ? new Shape(out, in) : new Shape(in, out);
      NDArray w = rows(scope.create(table.entry(layer.weight()).values(), rowsShape), outFirst);
      NDArray mask = rows(scope.create(survivors(zeroed), rowsShape), outFirst);
      if (groups > 1) {
        w = w.reshape(grouped);
        mask = mask.reshape(grouped);
      }
      NDArray gram = scope.zeros(groups == 1 ? new Shape(in, in) : new Shape(groups, in, in));
      NDArray h = scope.zeros(grouped);
      Map<String, NDArray> identity = conv == null ? null : conv.identity(scope);
      int n = (int) inputs.shape()[0];
      for (int from = 0; from < n; from += CHUNK) {
        try (NDManager chunk = scope.newSubManager()) {
          NDArray[] a = scorer.layerActivations(layer, rows(inputs, from, Math.min(n, from + CHUNK), chunk), inputs, from,
              chunk);
          if (conv == null) {
            accumulate(a[0].reshape(-1, in), a[1].reshape(-1, out), a[2].reshape(-1, out), w, alpha, gram, h);
            continue;
          }
          long count = a[0].getShape().get(0);
          long positions = a[1].size() / (count * out);
          long step = Math.max(1, patchEntries / (positions * in * groups));
          for (long s = 0; s < count; s += step) {
            try (NDManager part = chunk.newSubManager()) {
              // Sliced into this scope, so that each part's temporaries die with it.
              String slice = s + ":" + Math.min(count, s + step);
              NDArray[] p = {a[0].get(slice), a[1].get(slice), a[2].get(slice)};
              for (NDArray keep : p) {
                keep.attach(part);
              }
              accumulate(conv.rows(scorer, p[0], identity, part), conv.outputs(p[1]), conv.outputs(p[2]), w,
                  alpha, gram, h);
            }
          }
        }
      }
      h.muli(mask);
      float ridge = RIDGE * (groups == 1 ? gram.diagonal() : gram.diagonal(0, 1, 2)).mean().getFloat() + TINY;
      NDArray sol = w.mul(mask);
      NDArray r = h.sub(apply(sol, gram, mask, ridge));
      NDArray p = r;
      NDArray rs = r.square().sum(new int[] {last}, true);
      for (int i = 0; i < iterations; i++) {
        try (NDManager step = scope.newSubManager()) {
          NDArray ap = apply(p, gram, mask, ridge);
          NDArray a = rs.div(p.mul(ap).sum(new int[] {last}, true).maximum(TINY));
          NDArray nextSol = sol.add(a.mul(p));
          NDArray nextR = r.sub(a.mul(ap));
          NDArray nextRs = nextR.square().sum(new int[] {last}, true);
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

  /**
   * Adds one batch of rows to the normal equations: x [rows, in], the student's and the teacher's
   * outputs [rows, out] (each with a leading groups axis for a grouped Conv). What the weight does
   * not produce (bias, beta*C) is the same before and after the refit, so the weight's target is
   * (teacher - student) / alpha + x·wᵀ.
   */
  private static void accumulate(NDArray x, NDArray student, NDArray teacher, NDArray w, float alpha, NDArray gram,
      NDArray h) {
    NDArray target = teacher.sub(student).div(alpha).add(x.matMul(swap(w)));
    gram.addi(swap(x).matMul(x));
    h.addi(swap(target).matMul(x));
  }

  /** The transpose of a matrix, or of each matrix of a batch. */
  private static NDArray swap(NDArray a) {
    return a.getShape().dimension() == 2 ? a.transpose() : a.transpose(0, 2, 1);
  }

  /** Rows [from, to) of the first axis, on the device. */
  private static NDArray rows(HostTensor t, int from, int to, NDManager scope) {
    int row = t.rowLength();
    long[] shape = t.shape().clone();
    shape[0] = to - from;
    return scope.create(java.util.Arrays.copyOfRange(t.data(), from * row, to * row), new Shape(shape));
  }

  /** (M ∘ (P G)) + ridge P: the masked normal-equation operator, rows independent. */
  private static NDArray apply(NDArray p, NDArray gram, NDArray mask, float ridge) {
    return p.matMul(gram).mul(mask).add(p.mul(ridge));
  }

  /** The weight as [out, in] rows. */
  private static NDArray rows(NDArray weight, boolean outFirst) {
    return outFirst ? weight : weight.transpose();
  }

  static float[] survivors(boolean[] zeroed) {
    float[] m = new float[zeroed.length];
    for (int i = 0; i < m.length; i++) {
      m[i] = zeroed[i] ? 0f : 1f;
    }
    return m;
  }
}
