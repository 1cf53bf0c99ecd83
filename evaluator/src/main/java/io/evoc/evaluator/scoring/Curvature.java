package io.evoc.evaluator.scoring;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The diagonal of the Gauss-Newton curvature of the divergence with respect to one layer's weights,
 * at the committed student: {@code 0.5 * H_ii * w_i^2} then estimates how much zeroing weight i
 * alone raises the divergence (Optimal Brain Damage). Unlike |w| or |w|·‖x‖ it knows how much each
 * output unit matters downstream, which is what lets a search that re-estimates it every cycle
 * keep a 90%-sparse network accurate without any repair.
 *
 * <p>Computed in two passes of autograd through the executor, on the cached activations:
 * <ol>
 *   <li>per output probe u (for KL: one per class, weighted by sqrt(p_c), so that they sum to the
 *       Fisher of the softmax exactly; for MSE: one per output value), the gradient g of u·out with
 *       respect to the layer's output; per sample and unit, h = Σ g²;
 *   <li>the layer's node rerun on its input squared, with the weight as the variable: the gradient
 *       of Σ h·out is Σ h·x², the curvature of each weight (for Gemm scaled by alpha once more).
 * </ol>
 * Outputs with more than {@value #EXACT_PROBES} values per sample use {@value #SAMPLED_PROBES}
 * seeded random probes instead, an unbiased estimate.
 */
final class Curvature {
  static final int EXACT_PROBES = 64;
  static final int SAMPLED_PROBES = 16;

  private Curvature() {}

  /** H_ii per weight of {@code layer}, in the weight's flat order. */
  static float[] diagonal(CandidateScorer scorer, Layer layer, long seed) {
    try (NDManager scope = scorer.manager().newSubManager()) {
      NDArray[] io = scorer.studentActivations(layer);
      NDArray unit = unitCurvature(scorer, layer, io[1], scope, seed);
      NDArray w = scope.create(scorer.weights(layer), new ai.djl.ndarray.types.Shape(layer.shape()));
      w.setRequiresGradient(true);
      NDArray squared = io[0].square();
      squared.attach(scope);
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray out = scorer.executor().run(Map.of(layer.input(), squared, layer.weight(), w),
            List.of(layer.output()), scope).get(layer.output());
        gc.backward(out.mul(unit).sum());
      }
      float alpha = scorer.alpha(layer);
      return w.getGradient().mul(alpha).toFloatArray();
    }
  }

  /** Σ over probes of the squared gradient of probe·output with respect to the layer's output. */
  private static NDArray unitCurvature(CandidateScorer scorer, Layer layer, NDArray layerOutput, NDManager scope,
      long seed) {
    NDArray z = layerOutput.duplicate();
    z.attach(scope);
    z.setRequiresGradient(true);
    Map<String, NDArray> feeds = new HashMap<>(scorer.cut(layer));
    feeds.put(layer.output(), z);
    String outputName = scorer.outputName();
    // Classes (KL) or output values (MSE) per sample: exact probes when few, sampled otherwise.
    int values = Math.toIntExact(scorer.outputValues());
    boolean exact = values <= EXACT_PROBES;
    int probes = exact ? values : SAMPLED_PROBES;
    SplittableRandom random = new SplittableRandom(seed);
    NDArray sum = null;
    for (int r = 0; r < probes; r++) {
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        // The executor hands a fed tensor back as a copy, which autograd cannot see through.
        NDArray out = outputName.equals(layer.output()) ? z
            : scorer.executor().run(feeds, List.of(outputName), scope).get(outputName);
        NDArray target;
        NDArray weight;
        if (scorer.metric() == Metric.KL) {
          NDArray logp = Divergence.logProbabilities(out, scorer.outputKind());
          // Exact: one probe per output value of a sample; sampled: one class drawn per softmax row
          // (an output [N, A, C] has N·A of them, each summing to 1).
          target = exact ? logp.reshape(out.getShape().get(0), -1)
              : logp.reshape(-1, logp.getShape().get(logp.getShape().dimension() - 1));
          weight = classProbe(target.stopGradient().exp(), r, exact, random, scope);
        } else {
          target = out.reshape(out.getShape().get(0), -1);
          weight = valueProbe(target.getShape(), r, exact, random, scope);
        }
        gc.backward(target.mul(weight).sum());
      }
      NDArray g = z.getGradient().square();
      g.attach(scope);
      sum = sum == null ? g : sum.addi(g);
      z.getGradient().subi(z.getGradient());
    }
    float samples = layerOutput.getShape().get(0);
    float scale = scorer.metric() == Metric.KL ? 1f / samples : 2f / (samples * values);
    return sum.mul(scale);
  }

  /**
   * KL: exact, probe c weighs each sample's log p_c by sqrt(p_c), so that the probes' squared
   * gradients add up to the softmax Fisher; sampled, probe r picks one class per softmax row from
   * p (picks in different rows are independent and their gradients average to zero, so the cross
   * terms vanish in expectation).
   */
  private static NDArray classProbe(NDArray p, int r, boolean exact, SplittableRandom random, NDManager scope) {
    int rows = (int) p.getShape().get(0);
    int classes = (int) p.getShape().get(1);
    if (exact) {
      NDArray mask = scope.zeros(p.getShape());
      mask.set(new NDIndex(":, " + r), 1f);
      return p.sqrt().mul(mask);
    }
    float[] probabilities = p.toFloatArray();
    float[] pick = new float[rows * classes];
    for (int n = 0; n < rows; n++) {
      double u = random.nextDouble();
      int c = 0;
      double acc = probabilities[n * classes];
      while (acc < u && c < classes - 1) {
        acc += probabilities[n * classes + ++c];
      }
      pick[n * classes + c] = (float) (1 / Math.sqrt(SAMPLED_PROBES));
    }
    return scope.create(pick, p.getShape());
  }

  /** MSE: exact, probe r is output value r; sampled, a Rademacher vector per sample. */
  private static NDArray valueProbe(ai.djl.ndarray.types.Shape shape, int r, boolean exact, SplittableRandom random,
      NDManager scope) {
    int rows = (int) shape.get(0);
    int values = (int) shape.get(1);
    float[] v = new float[rows * values];
    for (int n = 0; n < rows; n++) {
      if (exact) {
        v[n * values + r] = 1f;
      } else {
        for (int d = 0; d < values; d++) {
          v[n * values + d] = (float) ((random.nextBoolean() ? 1 : -1) / Math.sqrt(SAMPLED_PROBES));
        }
      }
    }
    return scope.create(v, shape);
  }
}
