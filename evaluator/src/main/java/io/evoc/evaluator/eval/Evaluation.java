package io.evoc.evaluator.eval;

import io.evoc.evaluator.data.Batch;
import io.evoc.evaluator.data.BatchPlan;
import io.evoc.evaluator.data.DataException;
import io.evoc.evaluator.data.DataSet;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.engine.InferenceEngine;
import io.evoc.protocol.model.TensorSpec;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;

/**
 * A classifier's predictions on a data set: the argmax of the model's first output for each sample
 * (softmax, log-softmax and raw logits alike), and accuracy where the data has labels.
 *
 * @param predictions predicted class per sample, in data order
 * @param correct samples whose prediction equals the label, or -1 without labels
 * @param millis wall time of the forward passes
 */
public record Evaluation(int[] predictions, int correct, long millis) {
  public int samples() {
    return predictions.length;
  }

  /** Fraction correct, or NaN when the data had no labels. */
  public double accuracy() {
    return correct < 0 ? Double.NaN : (double) correct / predictions.length;
  }

  /**
   * Runs prepared data (fitted and preprocessed for {@code input}) through {@code engine} in
   * batches of {@code batchSize}, or of the model's fixed batch size, ignoring padding.
   */
  public static Evaluation run(InferenceEngine engine, TensorSpec input, DataSet prepared, int batchSize) {
    BatchPlan plan = BatchPlan.of(prepared, input, batchSize);
    List<String> first = List.of(engine.outputNames().get(0));
    int[] predictions = new int[prepared.size()];
    float[] padded = plan.newBuffer();
    long start = System.nanoTime();
    for (Batch b : plan.batches()) {
      FloatBuffer view = plan.values(b, padded);
      float[] x = new float[view.remaining()];
      view.get(x);
      HostTensor out = engine.run(Map.of(input.name(), new HostTensor(x, plan.shape(b))), first).get(first.get(0));
      if (out.shape().length == 0 || out.shape()[0] != b.size()) {
        throw new DataException(prepared.source() + ": the model's first output '" + first.get(0) + "' has shape "
            + java.util.Arrays.toString(out.shape()) + ", expected one row per sample of a " + b.size() + "-sample batch");
      }
      int classes = out.rowLength();
      if (b.index() == 0) {
        prepared.checkLabels(classes);
      }
      for (int i = 0; i < b.count(); i++) {
        predictions[b.offset() + i] = argmax(out.data(), i * classes, classes);
      }
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    int correct = -1;
    if (prepared.hasLabels()) {
      correct = 0;
      for (int i = 0; i < predictions.length; i++) {
        correct += predictions[i] == prepared.labels()[i] ? 1 : 0;
      }
    }
    return new Evaluation(predictions, correct, millis);
  }

  /** First index of the largest value; NaN never wins over a number. */
  public static int argmax(float[] v, int from, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) {
      float x = v[from + i];
      if (x > v[from + best] || Float.isNaN(v[from + best]) && !Float.isNaN(x)) {
        best = i;
      }
    }
    return best;
  }
}
