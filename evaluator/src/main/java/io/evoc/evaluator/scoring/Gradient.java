package io.evoc.evaluator.scoring;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The gradient of the divergence with respect to one layer's weights at the committed student, on
 * the scoring batch: with the curvature it estimates what restoring a pruned weight to the
 * teacher's value gains, {@code g·t + 0.5·h·t²} (the first-order term matters there, since the
 * student has moved away from the teacher; at the teacher it is zero).
 *
 * <p>One backward pass through the executor from the layer's cached input onward.
 */
final class Gradient {
  private Gradient() {}

  static float[] of(CandidateScorer scorer, Layer layer) {
    try (NDManager scope = scorer.manager().newSubManager()) {
      NDArray[] io = scorer.studentActivations(layer);
      NDArray w = scope.create(scorer.weights(layer), new Shape(layer.shape()));
      w.setRequiresGradient(true);
      Map<String, NDArray> feeds = new HashMap<>(scorer.cut(layer));
      feeds.put(layer.input(), io[0]);
      feeds.put(layer.weight(), w);
      String outputName = scorer.outputName();
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray out = scorer.executor().run(feeds, List.of(outputName), scope).get(outputName);
        NDArray reference = scorer.reference();
        reference.tempAttach(scope); // what is derived from it dies with the scope
        NDArray loss = scorer.metric() == Metric.KL
            ? Divergence.klLoss(reference, Divergence.logProbabilities(out, scorer.outputKind()))
            : out.reshape(reference.getShape()).sub(reference).square().mean();
        gc.backward(loss);
      }
      return w.getGradient().toFloatArray();
    }
  }
}
