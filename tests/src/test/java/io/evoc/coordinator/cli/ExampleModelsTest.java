package io.evoc.coordinator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
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

  private static Map<String, Object> eval(String model, String engine) {
    Cli r = Cli.run("eval", "--model", Cli.path(model), "--data", Cli.FASHION + ":test", "--engine", engine);
    assertThat(r.exitCode()).as(r.err()).isZero();
    return r.json();
  }
}
