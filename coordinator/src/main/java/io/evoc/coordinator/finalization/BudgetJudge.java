package io.evoc.coordinator.finalization;

import ai.djl.Device;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.scoring.CandidateScorer;
import io.evoc.evaluator.scoring.Metric;
import io.evoc.evaluator.scoring.StudentScoring;
import io.evoc.protocol.model.OnnxModel;
import java.util.Map;

/**
 * Measures how many points of calibration accuracy a student loses, on more samples than the
 * searches score on. A top-1 rate on the 1,000 samples that score candidates moves by about a point
 * between one sample of 1,000 and the next, as much as the usual budget; on 10,000 the noise is a
 * third of that. Divergence, which the searches optimise, is smooth and needs no more samples; only
 * the budget's yes or no does. Runs in this process, one forward pass per judged point.
 */
public final class BudgetJudge implements AutoCloseable {
  private final CandidateScorer scorer;
  private final ParameterTable student;
  /** Per sample, or null: the drop is then lost agreement with the teacher. */
  private final int[] labels;
  private final double teacherAccuracy;

  /**
   * @param inputs the judging samples, [N, ...]
   * @param labels theirs, or null when the calibration data has none
   */
  public BudgetJudge(OnnxModel teacher, ParameterTable student, Device device, HostTensor inputs, Metric metric,
      int[] labels) {
    if (labels != null && labels.length != inputs.shape()[0]) {
      throw new IllegalArgumentException("calibration labels: " + labels.length + " for " + inputs.shape()[0]
          + " samples");
    }
    this.scorer = new CandidateScorer(teacher, student, device, inputs, metric);
    this.student = student;
    this.labels = labels;
    this.teacherAccuracy = labels == null ? Double.NaN : accuracy(scorer.teacherTop1(), labels);
  }

  /** Points lost by the student with {@code replaced} weights set (the others as they are). */
  public double accuracyDrop(Map<String, float[]> replaced) {
    return accuracyDrop(student.with(replaced, scorer::scorePoint));
  }

  /** Points lost by a student scored on the judging samples: by the labels, else as lost agreement. */
  private double accuracyDrop(StudentScoring.Point s) {
    return labels == null ? 100 * (1 - s.agreement()) : teacherAccuracy - accuracy(s.top1(), labels);
  }

  /** Percent of samples whose top-1 class is the label. */
  private static double accuracy(int[] top1, int[] labels) {
    int correct = 0;
    for (int i = 0; i < labels.length; i++) {
      correct += top1[i] == labels[i] ? 1 : 0;
    }
    return 100.0 * correct / labels.length;
  }

  @Override
  public void close() {
    scorer.close();
  }
}
