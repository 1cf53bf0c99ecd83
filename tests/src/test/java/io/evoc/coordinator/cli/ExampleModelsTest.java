package io.evoc.coordinator.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The committed teachers reach their README accuracy, and both engines agree on every test sample. */
class ExampleModelsTest {
  @ParameterizedTest(name = "{0}")
  @CsvSource({"examples/models/fashion-mlp.onnx, 0.88", "examples/models/fashion-lenet5.onnx, 0.89",
      "examples/models/fashion-mlp-holdout.onnx, 0.88", "examples/models/fashion-lenet5-holdout.onnx, 0.89"})
  void bothEnginesAgreeToTheLastSample(String model, double minAccuracy) {
    Map<String, Object> djl = eval(model, "djl");
    Map<String, Object> ort = eval(model, "ort");
    assertThat(djl.get("engine")).isEqualTo("djl");
    assertThat(djl.get("samples")).isEqualTo(10000);
    assertThat((Double) ort.get("accuracy")).isGreaterThanOrEqualTo(minAccuracy);
    assertThat(djl.get("predictions_sha256")).isEqualTo(ort.get("predictions_sha256"));
    assertThat(djl.get("correct")).isEqualTo(ort.get("correct"));
  }

  /** Two models with different input layouts ([N, 784] and [N, 1, 28, 28]) compared sample by sample. */
  @Test
  void comparesTwoModelsOnTheSameSamples() {
    Cli r = Cli.run("eval", "--model", Cli.path("examples/models/fashion-mlp.onnx"), "--data", Cli.FASHION + ":test",
        "--engine", "ort", "--compare", Cli.path("examples/models/fashion-lenet5.onnx"));
    assertThat(r.exitCode()).as(r.err()).isZero();
    Map<String, Object> out = r.json();
    @SuppressWarnings("unchecked")
    Map<String, Object> c = (Map<String, Object>) out.get("compare");
    int mlp = (Integer) out.get("correct");
    int lenet = (Integer) c.get("correct");
    assertThat(c.get("predictions_sha256")).isEqualTo(eval("examples/models/fashion-lenet5.onnx", "ort")
        .get("predictions_sha256"));
    assertThat((Integer) c.get("only_model_correct") - (Integer) c.get("only_compare_correct")).isEqualTo(mlp - lenet);
    assertThat((Double) c.get("difference")).isCloseTo((mlp - lenet) / 10000.0, within(1e-12));
    // Two ~89% classifiers of different architectures disagree on a few hundred images: an error
    // of a few tenths of a point, well under either accuracy's own.
    assertThat((Double) c.get("paired_standard_error")).isBetween(0.001, 0.005);
    assertThat((Integer) c.get("same_predictions")).isBetween(8000, 9900);
  }

  /**
   * Test KL from a teacher, each model fed as it takes its input: the teacher against itself
   * diverges by nothing, and the paired KL difference is the other model's whole KL.
   */
  @Test
  void measuresEachModelsDivergenceFromATeacher() {
    String teacher = Cli.path("examples/models/fashion-mlp.onnx");
    String lenet = Cli.path("examples/models/fashion-lenet5.onnx");
    Cli r = Cli.run("eval", "--model", teacher, "--data", Cli.FASHION + ":test", "--limit", "2000",
        "--teacher", teacher, "--compare", lenet);
    assertThat(r.exitCode()).as(r.err()).isZero();
    Map<String, Object> out = r.json();
    assertThat((Double) out.get("kl")).isZero();
    assertThat((Double) out.get("agreement")).isEqualTo(1.0);
    assertThat(out.get("teacher_accuracy")).isEqualTo(out.get("accuracy"));
    @SuppressWarnings("unchecked")
    Map<String, Object> c = (Map<String, Object>) out.get("compare");
    double kl = (Double) c.get("kl");
    assertThat(kl).isBetween(0.05, 2.0);
    assertThat((Double) c.get("kl_difference")).isCloseTo(-kl, within(1e-12));
    assertThat((Double) c.get("kl_ratio")).isZero();
    assertThat((Double) c.get("kl_paired_standard_error")).isBetween(kl / 200, kl / 5);
    // The model is the teacher: right wherever the teacher is, wrong wherever it is not.
    @SuppressWarnings("unchecked")
    Map<String, Object> right = (Map<String, Object>) c.get("where_teacher_right");
    @SuppressWarnings("unchecked")
    Map<String, Object> wrong = (Map<String, Object>) c.get("where_teacher_wrong");
    assertThat((Integer) right.get("samples") + (Integer) wrong.get("samples")).isEqualTo(2000);
    assertThat((Integer) right.get("samples")).isEqualTo((int) Math.round(2000 * (Double) out.get("accuracy")));
    assertThat(right.get("only_compare_correct")).isEqualTo(0);
    assertThat(wrong.get("only_model_correct")).isEqualTo(0);
    assertThat((Integer) right.get("only_model_correct")).isEqualTo(c.get("only_model_correct"));
    assertThat((Integer) wrong.get("only_compare_correct")).isEqualTo(c.get("only_compare_correct"))
        .isPositive();
    // The same figure as LeNet-5 measured alone against the teacher.
    Cli alone = Cli.run("eval", "--model", lenet, "--data", Cli.FASHION + ":test", "--limit", "2000",
        "--teacher", teacher);
    assertThat(alone.exitCode()).as(alone.err()).isZero();
    assertThat((Double) alone.json().get("kl")).isCloseTo(kl, within(1e-12));
    assertThat(alone.json().get("agreement")).isEqualTo(c.get("agreement"));
  }

  private static Map<String, Object> eval(String model, String engine) {
    Cli r = Cli.run("eval", "--model", Cli.path(model), "--data", Cli.FASHION + ":test", "--engine", engine);
    assertThat(r.exitCode()).as(r.err()).isZero();
    return r.json();
  }
}
