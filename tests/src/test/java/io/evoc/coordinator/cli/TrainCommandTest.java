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
  void holdOutLeavesTheFirstImagesOutAndMustLeaveSome(@TempDir Path dir) {
    Path out = dir.resolve("mlp.onnx");
    Cli r = Cli.run("train", "--arch", "mlp", "--epochs", "1", "--limit", "3000", "--hold-out", "1000",
        "--out", out.toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.json()).containsEntry("held_out", 1000).containsEntry("train_samples", 2000);

    Cli none = Cli.run("train", "--arch", "mlp", "--limit", "3000", "--hold-out", "3000",
        "--out", dir.resolve("none.onnx").toString());
    assertThat(none.exitCode()).isEqualTo(2);
    assertThat(none.err()).contains("--hold-out 3000 leaves no training images").doesNotContain("\n");
    assertThat(dir.resolve("none.onnx")).doesNotExist();
  }

  @Test
  void unknownArchitectureIsAOneLineError(@TempDir Path dir) {
    Cli r = Cli.run("train", "--arch", "resnet", "--out", dir.resolve("x.onnx").toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).contains("resnet").doesNotContain("\n");
  }
}
