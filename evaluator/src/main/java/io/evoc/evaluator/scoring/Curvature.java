package io.evoc.evaluator.scoring;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import io.evoc.evaluator.engine.Gradients;
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
  /** Floats of layer output per chunk of samples: 16 MB, under glibc's largest mmap threshold (32 MB). */
  static final long CHUNK_FLOATS = 1L << 22;

  private Curvature() {}

  /** H_ii per weight of {@code layer}, in the weight's flat order. */
  static float[] diagonal(CandidateScorer scorer, Layer layer, long seed) {
    return diagonal(scorer, layer, seed, CHUNK_FLOATS, EXACT_PROBES);
  }

  /**
   * As {@link #diagonal(CandidateScorer, Layer, long)}, with chunks of {@code chunkFloats} of layer
   * output and at most {@code probesPerPass} probes on one forward pass.
   */
  static float[] diagonal(CandidateScorer scorer, Layer layer, long seed, long chunkFloats, int probesPerPass) {
    try (NDManager scope = scorer.manager().newSubManager()) {
      NDArray[] io = scorer.studentActivations(layer);
      NDArray unit = unitCurvature(scorer, layer, io[1], scope, seed, chunkFloats, probesPerPass);
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

  /**
   * Σ over probes of the squared gradient of probe·output with respect to the layer's output, per
   * sample and unit. Each sample's gradient is its own, so the samples go through in chunks of
   * about {@value #CHUNK_FLOATS} floats of layer output: on LeNet-5's conv2 with 10,000 samples, one
   * pass of all of them made 64 MB temporaries that glibc maps fresh each time, and the backward
   * took 400-850 ms per probe; in chunks it gives the same bits (tested) in a fraction of that.
   * The probes share one forward pass per chunk, each backward keeping the graph for the next.
   */
  private static NDArray unitCurvature(CandidateScorer scorer, Layer layer, NDArray layerOutput, NDManager scope,
      long seed, long chunkFloats, int probesPerPass) {
    int samples = Math.toIntExact(layerOutput.getShape().get(0));
    long perSample = layerOutput.size() / Math.max(1, samples);
    // A graph that fixes the batch size after the layer takes the samples only all at once.
    int chunk = !scorer.stacked(layer) ? samples
        : (int) Math.max(1, Math.min(samples, chunkFloats / Math.max(1, perSample)));
    // Classes (KL) or output values (MSE) per sample: exact probes when few, sampled otherwise.
    int values = Math.toIntExact(scorer.outputValues());
    boolean exact = values <= EXACT_PROBES;
    int probes = exact ? values : SAMPLED_PROBES;
    // Each sampled probe draws from its own stream, the samples in order whatever the chunks.
    SplittableRandom root = new SplittableRandom(seed);
    SplittableRandom[] streams = new SplittableRandom[probes];
    for (int r = 0; r < probes; r++) {
      streams[r] = root.split();
    }
    Probes pass = new Probes(scorer, layer, layerOutput, samples, exact, streams, scope);
    NDArray[] sums = new NDArray[(samples + chunk - 1) / chunk];
    for (int c = 0; c < sums.length; c++) {
      for (int r = 0; r < probes; r += probesPerPass) {
        sums[c] = pass.run(c * chunk, Math.min(samples, (c + 1) * chunk), r, Math.min(probes, r + probesPerPass), sums[c]);
      }
    }
    NDArray sum = sums.length == 1 ? sums[0] : NDArrays.concat(new NDList(sums), 0);
    float scale = scorer.metric() == Metric.KL ? 1f / samples : 2f / ((float) samples * values);
    return sum.mul(scale);
  }

  /** The downstream pass from one layer's output to the divergence's, probed on chunks of samples. */
  private record Probes(CandidateScorer scorer, Layer layer, NDArray layerOutput, int samples, boolean exact,
      SplittableRandom[] streams, NDManager scope) {
    /**
     * Adds the squared gradients of probes [first, last) on samples [from, to) into {@code sum}
     * (null: a new sum in {@code scope}), in probe order; one forward pass serves them all.
     */
    NDArray run(int from, int to, int first, int last, NDArray sum) {
      Map<String, NDArray> cut = scorer.cut(layer);
      String outputName = scorer.outputName();
      // What a chunk makes dies with it, its squared gradients added into the sum excepted.
      try (NDManager part = scope.newSubManager()) {
        NDArray z = rows(layerOutput, samples, from, to, part).duplicate();
        z.attach(part);
        z.setRequiresGradient(true);
        Map<String, NDArray> feeds = new HashMap<>();
        cut.forEach((name, a) -> feeds.put(name, rows(a, samples, from, to, part)));
        feeds.put(layer.output(), z);
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
          // The executor hands a fed tensor back as a copy, which autograd cannot see through.
          NDArray out = outputName.equals(layer.output()) ? z
              : scorer.executor().run(feeds, List.of(outputName), part).get(outputName);
          NDArray target;
          NDArray p = null;
          if (scorer.metric() == Metric.KL) {
            NDArray logp = Divergence.logProbabilities(out, scorer.outputKind());
            // Exact: one probe per output value of a sample; sampled: one class drawn per softmax
            // row (an output [N, A, C] has N·A of them, each summing to 1).
            target = exact ? logp.reshape(out.getShape().get(0), -1)
                : logp.reshape(-1, logp.getShape().get(logp.getShape().dimension() - 1));
            p = target.stopGradient().exp();
          } else {
            target = out.reshape(out.getShape().get(0), -1);
          }
          for (int r = first; r < last; r++) {
            NDArray weight = p != null ? classProbe(p, r, exact, streams[r], part)
                : valueProbe(target.getShape(), r, exact, streams[r], part);
            Gradients.backward(target.mul(weight).sum(), r + 1 < last);
            NDArray g = z.getGradient().square();
            Gradients.clear(z);
            if (sum == null) {
              g.attach(scope);
              sum = g;
            } else {
              sum.addi(g);
            }
          }
        }
      }
      return sum;
    }
  }

  /** Rows [from, to) of a batch-major tensor of {@code samples} rows; any other tensor as it is. */
  private static NDArray rows(NDArray a, int samples, int from, int to, NDManager scope) {
    if (a.getShape().dimension() == 0 || a.getShape().get(0) != samples || from == 0 && to == samples) {
      return a;
    }
    NDArray slice = a.get(new NDIndex().addSliceDim(from, to));
    slice.attach(scope);
    return slice;
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
