package io.evoc.coordinator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.evoc.protocol.model.OnnxModel;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainCommandTest {
  @Test
  void trainsWritesOnnxAndReportsOrtAccuracy(@TempDir Path dir) {
    Path out = dir.resolve("mlp.onnx");
    Cli r = Cli.run("train", "--dataset", "fashion-mnist", "--arch", "mlp", "--epochs", "1", "--seed", "3",
        "--limit", "3000", "--out", out.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    Map<String, Object> m = r.json();
    assertThat(m.get("train_samples")).isEqualTo(3000);
    assertThat((Double) m.get("test_accuracy_ort")).isGreaterThan(0.6);
    OnnxModel model = OnnxModel.read(out);
    assertThat(model.opTypes()).contains("Gemm", "Relu");
    assertThat(model.inputs().get(0).dims()).containsExactly(-1, 784);
  }

  @Test
  void unknownArchitectureIsAOneLineError(@TempDir Path dir) {
    Cli r = Cli.run("train", "--arch", "resnet", "--out", dir.resolve("x.onnx").toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("resnet").doesNotContain("\n");
  }
}
