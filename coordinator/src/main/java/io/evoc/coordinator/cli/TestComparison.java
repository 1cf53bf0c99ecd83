package io.evoc.coordinator.cli;

import io.evoc.evaluator.engine.Engines;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.engine.InferenceEngine;
import io.evoc.evaluator.eval.Evaluation;
import io.evoc.evaluator.scoring.OutputKind;
import io.evoc.protocol.model.OnnxModel;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Teacher and student side by side on held-out data, both run by ONNX Runtime from their files:
 * the independent check of what the search wrote. Accuracy of each (with labels), and the mean
 * KL(teacher || student) and top-1 agreement over all samples.
 *
 * @param divergences KL(teacher || student) of each sample, in data order (for paired comparisons)
 */
record TestComparison(int samples, double teacherAccuracy, double studentAccuracy, double kl, double agreement,
    double[] divergences) {
  /** The teacher's first output on every sample: computed once, compared with any number of students. */
  record Reference(OnnxModel teacher, PreparedData data, int batchSize, Outputs outputs) {
    static Reference of(OnnxModel teacher, PreparedData data, int batchSize) {
      return new Reference(teacher, data, batchSize, Outputs.of(teacher, data, batchSize));
    }

    /**
     * The teacher's top-1 class of each sample: the largest output (the same under every output
     * kind), by the rule eval applies to the models it compares.
     */
    int[] predictions() {
      int width = outputs.width();
      int[] top = new int[outputs.rows().length / Math.max(1, width)];
      for (int i = 0; i < top.length; i++) {
        top[i] = Evaluation.argmax(outputs.rows(), i * width, width);
      }
      return top;
    }
  }

  /** A model's first output, one row of {@code width} values per sample, padding dropped. */
  private record Outputs(float[] rows, int width) {
    static Outputs of(OnnxModel model, PreparedData data, int batchSize) {
      try (InferenceEngine engine = Engines.open(model, "ort", "cpu", null)) {
        HostTensor out = data.firstOutput(engine, batchSize);
        return new Outputs(out.data(), out.rowLength());
      }
    }
  }

  static TestComparison run(OnnxModel teacher, OnnxModel student, PreparedData data, int batchSize) {
    return run(Reference.of(teacher, data, batchSize), student);
  }

  /** A student that takes its input as the teacher does (a sparse copy of it). */
  static TestComparison run(Reference reference, OnnxModel student) {
    return run(reference, student, reference.data());
  }

  /** Any classifier of the teacher's classes, fed the same samples laid out as it takes them. */
  static TestComparison run(Reference reference, OnnxModel student, PreparedData studentData) {
    OutputKind kind = OutputKind.detect(reference.teacher());
    Outputs to = reference.outputs();
    Outputs so = Outputs.of(student, studentData, reference.batchSize());
    if (so.width() != to.width()) {
      throw new IllegalArgumentException(student.source() + ": its first output has " + so.width()
          + " values per sample, the teacher " + reference.teacher().source() + "'s " + to.width());
    }
    int[] labels = reference.data().data().labels();
    int n = reference.data().data().size();
    int classes = to.width();
    reference.data().data().checkLabels(classes);
    long teacherCorrect = 0;
    long studentCorrect = 0;
    long agree = 0;
    double[] divergences = new double[n];
    double kl = 0;
    for (int i = 0; i < n; i++) {
      double[] lt = logProbabilities(to.rows(), i * classes, classes, kind);
      double[] ls = logProbabilities(so.rows(), i * classes, classes, kind);
      int ta = argmax(lt);
      int sa = argmax(ls);
      agree += ta == sa ? 1 : 0;
      double d = 0;
      for (int c = 0; c < classes; c++) {
        d += Math.exp(lt[c]) * (lt[c] - ls[c]);
      }
      divergences[i] = d;
      kl += d;
      if (labels != null) {
        teacherCorrect += ta == labels[i] ? 1 : 0;
        studentCorrect += sa == labels[i] ? 1 : 0;
      }
    }
    double nan = Double.NaN;
    return new TestComparison(n, labels == null ? nan : (double) teacherCorrect / n,
        labels == null ? nan : (double) studentCorrect / n, kl / n, (double) agree / n, divergences);
  }

  /** As the end of a run prints it: accuracy where the test data has labels, then the KL. */
  String summary() {
    return accuracySummary() + String.format(", test KL %.5f", kl);
  }

  /** ", test accuracy S% (teacher T%)", or nothing when the test data has no labels. */
  String accuracySummary() {
    return Double.isNaN(teacherAccuracy) ? ""
        : String.format(", test accuracy %.2f%% (teacher %.2f%%)", 100 * studentAccuracy, 100 * teacherAccuracy);
  }

  /** As a report holds it. */
  Map<String, Object> describe(String source) {
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("data", source);
    t.put("samples", samples);
    if (!Double.isNaN(teacherAccuracy)) { // unlabelled test data: no accuracy, the rest stands
      t.put("teacher_accuracy", teacherAccuracy);
      t.put("student_accuracy", studentAccuracy);
    }
    t.put("kl", kl);
    t.put("agreement", agreement);
    return t;
  }

  private static double[] logProbabilities(float[] v, int from, int n, OutputKind kind) {
    double[] out = new double[n];
    if (kind == OutputKind.LOG_PROBABILITIES) {
      for (int i = 0; i < n; i++) {
        out[i] = v[from + i];
      }
      return out;
    }
    if (kind == OutputKind.PROBABILITIES) {
      for (int i = 0; i < n; i++) {
        out[i] = Math.log(Math.max(v[from + i], 1e-30));
      }
      return out;
    }
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      max = Math.max(max, v[from + i]);
    }
    double sum = 0;
    for (int i = 0; i < n; i++) {
      sum += Math.exp(v[from + i] - max);
    }
    double log = max + Math.log(sum);
    for (int i = 0; i < n; i++) {
      out[i] = v[from + i] - log;
    }
    return out;
  }

  private static int argmax(double[] v) {
    int best = 0;
    for (int i = 1; i < v.length; i++) {
      if (v[i] > v[best]) {
        best = i;
      }
    }
    return best;
  }
}
