package io.evoc.coordinator.cli;

import io.evoc.evaluator.data.Batch;
import io.evoc.evaluator.data.BatchPlan;
import io.evoc.evaluator.engine.Engines;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.engine.InferenceEngine;
import io.evoc.evaluator.scoring.OutputKind;
import io.evoc.protocol.model.OnnxModel;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Teacher and student side by side on held-out data, both run by ONNX Runtime from their files:
 * the independent check of what the search wrote. Accuracy of each (with labels), and the mean
 * KL(teacher || student) and top-1 agreement over all samples.
 */
record TestComparison(int samples, double teacherAccuracy, double studentAccuracy, double kl, double agreement) {
  /** The teacher's first output on every test batch: computed once, compared with any number of students. */
  record Reference(OnnxModel teacher, PreparedData data, BatchPlan plan, List<HostTensor> outputs) {
    static Reference of(OnnxModel teacher, PreparedData data, int batchSize) {
      BatchPlan plan = BatchPlan.of(data.data(), data.input(), batchSize);
      return new Reference(teacher, data, plan, TestComparison.outputs(teacher, data, plan));
    }
  }

  static TestComparison run(OnnxModel teacher, OnnxModel student, PreparedData data, int batchSize) {
    return run(Reference.of(teacher, data, batchSize), student);
  }

  static TestComparison run(Reference reference, OnnxModel student) {
    OutputKind kind = OutputKind.detect(reference.teacher());
    PreparedData data = reference.data();
    int[] labels = data.data().labels();
    long teacherCorrect = 0;
    long studentCorrect = 0;
    long agree = 0;
    double kl = 0;
    List<HostTensor> studentOutputs = outputs(student, data, reference.plan());
    List<Batch> batches = reference.plan().batches();
    for (int k = 0; k < batches.size(); k++) {
      Batch b = batches.get(k);
      HostTensor to = reference.outputs().get(k);
      HostTensor so = studentOutputs.get(k);
      int classes = to.rowLength();
      for (int i = 0; i < b.count(); i++) {
        double[] lt = logProbabilities(to.data(), i * classes, classes, kind);
        double[] ls = logProbabilities(so.data(), i * classes, classes, kind);
        int ta = argmax(lt);
        int sa = argmax(ls);
        agree += ta == sa ? 1 : 0;
        for (int c = 0; c < classes; c++) {
          kl += Math.exp(lt[c]) * (lt[c] - ls[c]);
        }
        if (labels != null) {
          teacherCorrect += ta == labels[b.offset() + i] ? 1 : 0;
          studentCorrect += sa == labels[b.offset() + i] ? 1 : 0;
        }
      }
    }
    int n = data.data().size();
    double nan = Double.NaN;
    return new TestComparison(n, labels == null ? nan : (double) teacherCorrect / n,
        labels == null ? nan : (double) studentCorrect / n, kl / n, (double) agree / n);
  }

  /** A model's first output on every batch, by ONNX Runtime. */
  private static List<HostTensor> outputs(OnnxModel model, PreparedData data, BatchPlan plan) {
    List<HostTensor> out = new ArrayList<>();
    float[] padded = plan.newBuffer();
    try (InferenceEngine engine = Engines.open(model, "ort", "cpu", null)) {
      List<String> first = List.of(engine.outputNames().get(0));
      for (Batch b : plan.batches()) {
        FloatBuffer view = plan.values(b, padded);
        float[] x = new float[view.remaining()];
        view.get(x);
        Map<String, HostTensor> feed = Map.of(data.input().name(), new HostTensor(x, plan.shape(b)));
        out.add(engine.run(feed, first).get(first.get(0)));
      }
    }
    return out;
  }

  /** As a report holds it. */
  Map<String, Object> describe(String source) {
    Map<String, Object> t = new LinkedHashMap<>();
    t.put("data", source);
    t.put("samples", samples);
    t.put("teacher_accuracy", teacherAccuracy);
    t.put("student_accuracy", studentAccuracy);
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
