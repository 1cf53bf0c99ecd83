package io.evoc.coordinator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InspectModelCommandTest {
  @Test
  void listsWeightsOpsAndCoverage() {
    Cli r = Cli.run("inspect-model", "--json", Cli.path("examples/models/fashion-mlp.onnx"));
    assertThat(r.exitCode()).as(r.err()).isZero();
    Map<String, Object> m = r.json();
    assertThat((Boolean) m.get("fast_executor_covers_all")).isTrue();
    // 784*300 + 300 + 300*100 + 100 + 100*10 + 10
    assertThat(((Number) m.get("float_parameters")).longValue()).isEqualTo(266_610L);
    assertThat((List<?>) m.get("weights")).hasSize(6);
  }

  @Test
  void namesTheOpsTheExecutorLacks() {
    Cli r = Cli.run("inspect-model", "--json", Cli.path("examples/fixtures/unsupported-op.onnx"));
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat((Boolean) r.json().get("fast_executor_covers_all")).isFalse();
    assertThat(r.json().get("ops_not_covered")).isEqualTo(List.of("Softsign"));
  }

  @Test
  void tableNamesEveryWeight() {
    Cli r = Cli.run("inspect-model", Cli.path("examples/fixtures/torch-cnn.onnx"));
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("bn1.running_var").contains("fc2.weight").contains("covers every op");
  }

  /** Each prunable weight shows the node that multiplies by it: the name --layer-sparsity also takes. */
  @Test
  @SuppressWarnings("unchecked")
  void namesTheNodeOfEachPrunableWeight() {
    String vit = Cli.path("examples/fixtures/torch-vit.onnx");
    Cli table = Cli.run("inspect-model", vit);
    assertThat(table.exitCode()).as(table.err()).isZero();
    assertThat(table.out()).containsPattern("onnx::MatMul_\\d+ .* prunable: MatMul /embed/MatMul")
        .contains("prunable: Gemm /head/Gemm");
    List<Map<String, Object>> weights = (List<Map<String, Object>>) Cli.run("inspect-model", "--json", vit).json()
        .get("weights");
    assertThat(weights).filteredOn(w -> w.containsKey("layer")).extracting(w -> ((Map<String, Object>) w.get("layer"))
        .get("node")).containsExactlyInAnyOrder("/embed/MatMul", "/encoder/layers.0/self_attn/MatMul",
            "/encoder/layers.0/self_attn/Gemm", "/encoder/layers.0/linear1/MatMul", "/encoder/layers.0/linear2/MatMul",
            "/head/Gemm");
    assertThat(weights).filteredOn(w -> w.get("name").equals("position"))
        .singleElement().satisfies(w -> assertThat(w).doesNotContainKey("layer"));
  }
}
