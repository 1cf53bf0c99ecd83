package io.evoc.coordinator.cli;

import io.evoc.coordinator.search.Ranges;
import io.evoc.evaluator.data.DataLoader;
import io.evoc.evaluator.data.DataSet;
import io.evoc.evaluator.data.Preprocessing;
import io.evoc.evaluator.engine.Engines;
import io.evoc.evaluator.engine.InferenceEngine;
import io.evoc.evaluator.eval.Evaluation;
import io.evoc.evaluator.eval.PairedAccuracy;
import io.evoc.evaluator.eval.PairedDivergence;
import io.evoc.protocol.model.OnnxModel;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "eval", mixinStandardHelpOptions = true,
    description = "Accuracy of a classifier on labelled data (argmax of the first output), as one JSON object; "
        + "with --compare, also the paired difference to a second model on the same samples; with --teacher, "
        + "also the test KL from a teacher (and, with --compare, its paired difference and the paired counts "
        + "split by whether the teacher is right).")
final class EvalCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, paramLabel = "FILE.onnx")
  Path model;

  @Option(names = "--data", required = true, paramLabel = "DATA",
      description = "An IDX directory with :train or :test (default :test), or a .npy/.npz file.")
  String data;

  @Option(names = {"--limit", "--calib-limit"}, defaultValue = "0", paramLabel = "N", description = "Use the first N samples (default 0: all).")
  int limit;

  @Option(names = "--engine", defaultValue = "djl", paramLabel = "djl|ort", description = "djl: evoc's executor (default); ort: ONNX Runtime.")
  String engine;

  @Option(names = "--device", defaultValue = "cpu", description = "Executor device: cpu, gpu or gpu:N (default ${DEFAULT-VALUE}).")
  String device;

  @Option(names = "--batch-size", defaultValue = "1000", description = "Samples per forward pass when the model's batch is symbolic (default ${DEFAULT-VALUE}).")
  int batchSize;

  @Option(names = "--compare", paramLabel = "OTHER.onnx",
      description = "A second model run the same way on the same samples: the JSON gains its accuracy, the "
          + "difference (this minus other) and its paired standard error, from the samples only one gets right.")
  Path compare;

  @Option(names = "--teacher", paramLabel = "TEACHER.onnx",
      description = "The model both were made from: the JSON gains the mean KL(teacher || model) and top-1 "
          + "agreement, run by ONNX Runtime as sparsify's report measures them, and with --compare the KL "
          + "difference and its paired standard error.")
  Path teacher;

  @Mixin PreprocessingOptions preprocessing;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Ranges.limit("--limit", limit);
    if (batchSize < 1) {
      throw new IllegalArgumentException("--batch-size " + batchSize + ": expected 1 or more");
    }
    OnnxModel first = OnnxModel.read(model);
    OnnxModel teacherModel = teacher == null ? null : OnnxModel.read(teacher);
    PreparedData.onlyInput(first); // before the data is read
    if (teacherModel != null) {
      PreparedData.onlyInput(teacherModel);
    }
    Preprocessing pre = preprocessing.parse();
    DataSet raw = DataLoader.load(data, limit); // read once, fitted to each model in turn
    Run run = evaluate(first, raw, pre);
    Evaluation result = run.result();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("model", model.toString());
    out.put("data", data);
    out.put("engine", run.engine());
    out.put("device", engine.equals("djl") ? device : "cpu");
    out.put("samples", result.samples());
    out.put("correct", result.correct());
    out.put("accuracy", result.accuracy());
    out.put("milliseconds", result.millis());
    out.put("predictions_sha256", digest(result.predictions()));
    TestComparison.Reference reference = null;
    TestComparison divergence = null;
    if (teacherModel != null) {
      reference = TestComparison.Reference.of(teacherModel, PreparedData.of(teacherModel, raw, pre), batchSize);
      divergence = TestComparison.run(reference, first, run.data());
      out.put("teacher", teacher.toString());
      out.put("teacher_accuracy", divergence.teacherAccuracy());
      out.put("kl", divergence.kl());
      out.put("agreement", divergence.agreement());
    }
    if (compare != null) {
      OnnxModel second = OnnxModel.read(compare);
      Run otherRun = evaluate(second, raw, pre);
      Evaluation other = otherRun.result();
      PairedAccuracy paired = PairedAccuracy.of(result.predictions(), other.predictions(), run.data().data().labels());
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("model", compare.toString());
      c.put("correct", other.correct());
      c.put("accuracy", other.accuracy());
      c.put("difference", paired.difference());
      c.put("paired_standard_error", paired.standardError());
      c.put("only_model_correct", paired.onlyFirst());
      c.put("only_compare_correct", paired.onlySecond());
      c.put("same_predictions", paired.agree());
      c.put("predictions_sha256", digest(other.predictions()));
      if (reference != null) {
        TestComparison otherDivergence = TestComparison.run(reference, second, otherRun.data());
        PairedDivergence kl = PairedDivergence.of(divergence.divergences(), otherDivergence.divergences());
        c.put("kl", kl.second());
        c.put("agreement", otherDivergence.agreement());
        c.put("kl_difference", kl.difference());
        c.put("kl_paired_standard_error", kl.standardError());
        c.put("kl_ratio", kl.ratio());
        int[] labels = run.data().data().labels();
        int[] top = reference.predictions();
        c.put("where_teacher_right", split(result.predictions(), other.predictions(), labels, top, true));
        c.put("where_teacher_wrong", split(result.predictions(), other.predictions(), labels, top, false));
      }
      out.put("compare", c);
    }
    spec.commandLine().getOut().println(Json.line(out));
    spec.commandLine().getOut().flush();
    return 0;
  }

  /** A model's evaluation, and the data as it took it (for its KL from a teacher). */
  private record Run(Evaluation result, String engine, PreparedData data) {}

  /** One model on the data as that model takes it (two models may lay their inputs out differently). */
  private Run evaluate(OnnxModel m, DataSet raw, Preprocessing pre) {
    PreparedData prepared = PreparedData.of(m, raw, pre);
    if (!prepared.data().hasLabels()) {
      throw new IllegalArgumentException(data + ": has no labels; eval needs labelled data");
    }
    try (InferenceEngine e = Engines.open(m, engine, device, null)) {
      return new Run(Evaluation.run(e, prepared.input(), prepared.data(), batchSize), e.name(), prepared);
    }
  }

  /**
   * The paired counts on the samples the teacher gets right (or wrong): whether one student's lead
   * comes from following the teacher where it is right or from leaving it where it is wrong.
   */
  private static Map<String, Object> split(int[] first, int[] second, int[] labels, int[] teacher, boolean right) {
    int[] keep = IntStream.range(0, labels.length).filter(i -> (teacher[i] == labels[i]) == right).toArray();
    PairedAccuracy p = PairedAccuracy.of(pick(first, keep), pick(second, keep), pick(labels, keep));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("samples", p.samples());
    m.put("only_model_correct", p.onlyFirst());
    m.put("only_compare_correct", p.onlySecond());
    return m;
  }

  private static int[] pick(int[] values, int[] indices) {
    return IntStream.of(indices).map(i -> values[i]).toArray();
  }

  /** Two runs agree on every sample exactly when these digests are equal. */
  static String digest(int[] predictions) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      ByteBuffer b = ByteBuffer.allocate(predictions.length * 4);
      b.asIntBuffer().put(predictions);
      return HexFormat.of().formatHex(sha.digest(b.array()));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
