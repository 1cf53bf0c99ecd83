package io.evoc.evaluator.scoring;

import static org.assertj.core.api.Assertions.assertThat;

import io.evoc.protocol.model.OnnxModel;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class LayersTest {
  private static final Path EXAMPLES = Path.of(System.getProperty("evoc.repo.root", ".."), "examples");

  @Test
  void teacherLayersAreItsGemmAndConvWeightsInOrder() {
    List<Layer> mlp = Layers.of(OnnxModel.read(EXAMPLES.resolve("models/fashion-mlp.onnx")));
    assertThat(mlp).extracting(Layer::weight).containsExactly("fc1.weight", "fc2.weight", "fc3.weight");
    Layer fc1 = mlp.get(0);
    assertThat(fc1.input()).isEqualTo("input");
    assertThat(fc1.shape()).containsExactly(300, 784);
    // Gemm with transB=1: rows are output features.
    assertThat(fc1.outAxis()).isZero();
    assertThat(fc1.inAxis()).isEqualTo(1);
    assertThat(mlp.stream().mapToLong(Layer::size).sum()).isEqualTo(784 * 300 + 300 * 100 + 100 * 10);

    List<Layer> lenet = Layers.of(OnnxModel.read(EXAMPLES.resolve("models/fashion-lenet5.onnx")));
    assertThat(lenet).extracting(Layer::opType).containsExactly("Conv", "Conv", "Gemm", "Gemm", "Gemm");
    assertThat(lenet.get(0).shape()).containsExactly(6, 1, 5, 5);
  }

  @Test
  void matMulWithTheWeightSecondHasOutputsOnItsColumns() {
    List<Layer> layers = Layers.of(OnnxModel.read(EXAMPLES.resolve("fixtures/matmul-mlp.onnx")));
    assertThat(layers).hasSize(3);
    assertThat(layers.get(0).shape()).containsExactly(784, 64);
    assertThat(layers.get(0).outAxis()).isEqualTo(1);
    assertThat(layers.get(0).inAxis()).isZero();
    assertThat(layers).allSatisfy(l -> assertThat(l.shape()).hasSize(2));
  }
}
