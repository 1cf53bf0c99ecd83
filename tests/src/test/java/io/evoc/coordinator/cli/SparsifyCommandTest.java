package io.evoc.coordinator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.evoc.protocol.model.OnnxModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Small, fast searches on the example MLP: the quality runs live in examples/sparsify-quality.sh. */
class SparsifyCommandTest {
  private static final String MLP = Cli.path("examples/models/fashion-mlp.onnx");

  private static Cli sparsify(Path dir, String name, String... extra) {
    List<String> args = new java.util.ArrayList<>(List.of("sparsify", "--model", MLP,
        "--calib", Cli.FASHION + ":train", "--calib-limit", "200", "--population", "8", "--generations", "2",
        "--step", "0.2", "--out", dir.resolve(name + ".onnx").toString(),
        "--report", dir.resolve(name + ".json").toString()));
    args.addAll(List.of(extra));
    return Cli.run(args.toArray(String[]::new));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> report(Path dir, String name) throws IOException {
    return new ObjectMapper().readValue(dir.resolve(name + ".json").toFile(), Map.class);
  }

  @SuppressWarnings("unchecked")
  private static List<Object> goals(Map<String, Object> report) {
    return ((List<Map<String, Object>>) report.get("layers")).stream().map(l -> l.get("goal")).toList();
  }

  @Test
  void reachesTheGoalWritesTheModelAndReportsTestAccuracy(@TempDir Path dir) throws IOException {
    Cli r = sparsify(dir, "de", "--sparsity", "0.6", "--repair", "none", "--test", Cli.FASHION + ":test",
        "--test-limit", "500");
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.err()).contains("sparsify: goal reached");
    Map<String, Object> rep = report(dir, "de");
    assertThat((Double) rep.get("sparsity")).isCloseTo(0.6, org.assertj.core.api.Assertions.within(0.002));
    // The written file holds what the report says, layer by layer.
    OnnxModel sparse = OnnxModel.read(dir.resolve("de.onnx"));
    List<Map<String, Object>> layers = (List<Map<String, Object>>) rep.get("layers");
    assertThat(layers).extracting(l -> l.get("weight")).containsExactly("fc1.weight", "fc2.weight", "fc3.weight");
    long zeros = 0;
    long total = 0;
    for (Map<String, Object> l : layers) {
      float[] w = sparse.floats((String) l.get("weight"));
      long z = 0;
      for (float v : w) {
        z += v == 0 ? 1 : 0;
      }
      assertThat((double) z / w.length).isCloseTo((Double) l.get("sparsity"), org.assertj.core.api.Assertions.within(1e-9));
      zeros += z;
      total += w.length;
    }
    assertThat((double) zeros / total).isCloseTo((Double) rep.get("sparsity"), org.assertj.core.api.Assertions.within(1e-9));
    Map<String, Object> test = (Map<String, Object>) rep.get("test");
    assertThat((Double) test.get("teacher_accuracy")).isGreaterThan(0.85);
    assertThat((Double) test.get("student_accuracy")).isGreaterThan(0.5);
    assertThat((Double) test.get("kl")).isPositive();
    List<Map<String, Object>> trace = (List<Map<String, Object>>) rep.get("trace");
    assertThat(trace).isNotEmpty();
    assertThat(((Number) rep.get("candidates_scored")).longValue()).isGreaterThan(trace.size());
  }

  @Test
  void sameSeedSameBytesAndTheBaselineUsesTheSameSplit(@TempDir Path dir) throws IOException {
    for (String name : List.of("a", "b")) {
      Cli r = sparsify(dir, name, "--sparsity", "0.5", "--repair", "ls", "--seed", "7");
      assertThat(r.exitCode()).as(r.err()).isZero();
    }
    assertThat(Files.readAllBytes(dir.resolve("a.onnx"))).isEqualTo(Files.readAllBytes(dir.resolve("b.onnx")));
    Cli m = sparsify(dir, "m", "--sparsity", "0.5", "--repair", "ls", "--method", "magnitude");
    assertThat(m.exitCode()).as(m.err()).isZero();
    Map<String, Object> de = report(dir, "a");
    Map<String, Object> mag = report(dir, "m");
    assertThat(goals(mag)).isEqualTo(goals(de));
    assertThat(Files.readAllBytes(dir.resolve("m.onnx"))).isNotEqualTo(Files.readAllBytes(dir.resolve("a.onnx")));
  }

  @Test
  @SuppressWarnings("unchecked")
  void distillationRepairLowersTheDivergenceWithoutLabels(@TempDir Path dir) throws IOException {
    // Scored on the first 100 calibration images, distilled on all 200.
    Cli plain = sparsify(dir, "plain", "--sparsity", "0.8", "--method", "magnitude", "--repair", "none",
        "--search-samples", "100");
    Cli distilled = sparsify(dir, "distilled", "--sparsity", "0.8", "--method", "magnitude", "--repair", "distill",
        "--distill-epochs", "3", "--search-samples", "100");
    assertThat(plain.exitCode()).as(plain.err()).isZero();
    assertThat(distilled.exitCode()).as(distilled.err()).isZero();
    double before = ((Number) ((Map<String, Object>) report(dir, "plain").get("calibration")).get("divergence")).doubleValue();
    double after = ((Number) ((Map<String, Object>) report(dir, "distilled").get("calibration")).get("divergence")).doubleValue();
    assertThat(after).isLessThan(before * 0.9);
    Map<String, Object> settings = (Map<String, Object>) report(dir, "distilled").get("settings");
    assertThat(((Number) settings.get("calib_samples")).intValue()).isEqualTo(200);
    assertThat(((Number) settings.get("search_samples")).intValue()).isEqualTo(100);
    assertThat(settings).as("magnitude pruning has no prior").doesNotContainKey("prior_samples");
    // Zeros stay zero: the same weights are pruned.
    OnnxModel a = OnnxModel.read(dir.resolve("plain.onnx"));
    OnnxModel b = OnnxModel.read(dir.resolve("distilled.onnx"));
    float[] wa = a.floats("fc1.weight");
    float[] wb = b.floats("fc1.weight");
    for (int i = 0; i < wa.length; i++) {
      assertThat(wb[i] == 0).isEqualTo(wa[i] == 0);
    }
  }

  @Test
  @SuppressWarnings("unchecked")
  void thePriorIsEstimatedOnMoreSamplesThanAreScored(@TempDir Path dir) throws IOException {
    // Scored on the first 50 images either way; the prior on those 50, or on all 200.
    Cli narrow = sparsify(dir, "p50", "--sparsity", "0.7", "--repair", "none", "--search-samples", "50",
        "--prior-samples", "50");
    Cli wide = sparsify(dir, "p200", "--sparsity", "0.7", "--repair", "none", "--search-samples", "50");
    assertThat(narrow.exitCode()).as(narrow.err()).isZero();
    assertThat(wide.exitCode()).as(wide.err()).isZero();
    assertThat(((Map<String, Object>) report(dir, "p50").get("settings")).get("prior_samples")).isEqualTo(50);
    assertThat(((Map<String, Object>) report(dir, "p200").get("settings")).get("prior_samples"))
        .as("10,000 asked, 200 there").isEqualTo(200);
    // The split is the scorer's, so it stays; the prior directs which weights go.
    assertThat(goals(report(dir, "p200"))).isEqualTo(goals(report(dir, "p50")));
    assertThat(Files.readAllBytes(dir.resolve("p200.onnx"))).isNotEqualTo(Files.readAllBytes(dir.resolve("p50.onnx")));
  }

  @Test
  void perLayerGoalsAndATimeBudgetLeaveAValidModel(@TempDir Path dir) throws IOException {
    Cli r = sparsify(dir, "t", "--layer-sparsity", "fc2.weight=0.8", "--repair", "none", "--time-budget", "1ms");
    assertThat(r.exitCode()).as(r.err()).isZero();
    Map<String, Object> rep = report(dir, "t");
    assertThat(rep.get("stop_reason")).isEqualTo("time budget");
    OnnxModel.read(dir.resolve("t.onnx"));
    Cli g = sparsify(dir, "g", "--layer-sparsity", "fc2.weight=0.8", "--repair", "none");
    assertThat(g.exitCode()).as(g.err()).isZero();
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> layers = (List<Map<String, Object>>) report(dir, "g").get("layers");
    assertThat((Double) layers.get(1).get("sparsity")).isCloseTo(0.8, org.assertj.core.api.Assertions.within(1e-4));
    assertThat((Double) layers.get(0).get("sparsity")).isZero();
  }

  /**
   * torch names a transposed Linear weight {@code onnx::MatMul_N}; the node that multiplies by it
   * keeps the module's path, and goals, progress and report use it.
   */
  @Test
  @SuppressWarnings("unchecked")
  void layersWhoseWeightNamesTheExporterMadeUpGoByTheirNodes(@TempDir Path dir) throws IOException {
    String vit = Cli.path("examples/fixtures/torch-vit.onnx");
    String linear1 = "/encoder/layers.0/linear1/MatMul";
    Cli r = Cli.run("sparsify", "--model", vit, "--calib", Cli.FASHION + ":train", "--calib-limit", "100",
        "--method", "magnitude", "--repair", "none", "--layer-sparsity", linear1 + "=0.5,head.weight=0.3",
        "--out", dir.resolve("v.onnx").toString(), "--report", dir.resolve("v.json").toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.err()).contains(linear1 + " 50.0%").contains("head.weight 30.0%").doesNotContain("onnx::");
    List<Map<String, Object>> layers = (List<Map<String, Object>>) report(dir, "v").get("layers");
    Map<String, Object> byNode = layers.stream().filter(l -> linear1.equals(l.get("node"))).findFirst().orElseThrow();
    assertThat((String) byNode.get("weight")).startsWith("onnx::MatMul_");
    assertThat((Double) byNode.get("sparsity")).isCloseTo(0.5, org.assertj.core.api.Assertions.within(1e-3));
    assertThat(layers).filteredOn(l -> !List.of(linear1, "/head/Gemm").contains(l.get("node")))
        .allSatisfy(l -> assertThat((Double) l.get("sparsity")).isZero());

    String weight = (String) byNode.get("weight");
    Cli twice = Cli.run("sparsify", "--model", vit, "--calib", Cli.FASHION + ":train", "--calib-limit", "100",
        "--method", "magnitude", "--layer-sparsity", linear1 + "=0.5," + weight + "=0.6",
        "--out", dir.resolve("t.onnx").toString(), "--report", dir.resolve("t.json").toString());
    assertThat(twice.exitCode()).isEqualTo(2);
    assertThat(twice.err()).startsWith("evoc: ").contains(weight, "two goals").doesNotContain("\n");
    assertThat(dir.resolve("t.onnx")).doesNotExist();
  }

  /**
   * Every exporter fixture that takes Fashion-MNIST images is sparsified with refits after each
   * commit (Gemm, MatMul, Conv with and without groups, BatchNormalization between, NHWC
   * transposes, a fixed batch, twelve softmax rows) and written with its own graph.
   */
  @ParameterizedTest
  @ValueSource(strings = {"torch-cnn", "torch-view-reshape", "keras-style", "matmul-mlp", "fixed-batch1-nhwc",
      "multi-softmax", "grouped-cnn"})
  @SuppressWarnings("unchecked")
  void everyExportedGraphIsSparsified(String fixture, @TempDir Path dir) throws IOException {
    String model = Cli.path("examples/fixtures/" + fixture + ".onnx");
    Cli r = Cli.run("sparsify", "--model", model, "--calib", Cli.FASHION + ":train", "--calib-limit", "300",
        "--search-samples", "60", "--prior-samples", "200", "--population", "8", "--generations", "2",
        "--swaps", "2", "--sparsity", "0.6", "--repair", "ls", "--test", Cli.FASHION + ":test", "--test-limit", "100",
        "--out", dir.resolve("s.onnx").toString(), "--report", dir.resolve("s.json").toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    Map<String, Object> rep = report(dir, "s");
    assertThat((Double) rep.get("sparsity")).isCloseTo(0.6, org.assertj.core.api.Assertions.within(0.01));
    assertThat((List<Object>) rep.get("layers")).isNotEmpty();
    assertThat((Double) ((Map<String, Object>) rep.get("test")).get("kl")).isPositive().isLessThan(10);
    OnnxModel teacher = OnnxModel.read(Path.of(model));
    OnnxModel sparse = OnnxModel.read(dir.resolve("s.onnx"));
    assertThat(sparse.graph().getNodeList()).isEqualTo(teacher.graph().getNodeList());
    // Shapes and other non-float constants are the teacher's, whatever scoring ran.
    teacher.initializers().values().stream()
        .filter(t -> t.getDataType() != io.evoc.protocol.onnx.TensorProto.DataType.FLOAT_VALUE)
        .forEach(t -> assertThat(sparse.initializers().get(t.getName())).as(t.getName()).isEqualTo(t));
  }

  /**
   * A tf2onnx-style graph whose Reshape target fixes batch 1: scored, refit and distilled many
   * samples at once through a batch-free copy, written with its own graph, tested by ONNX Runtime
   * one sample at a time.
   */
  @Test
  @SuppressWarnings("unchecked")
  void aGraphThatFixesItsBatchIsSparsifiedAndWrittenAsItWas(@TempDir Path dir) throws IOException {
    String model = Cli.path("examples/fixtures/fixed-batch1-nhwc.onnx");
    Cli r = Cli.run("sparsify", "--model", model, "--calib", Cli.FASHION + ":train", "--calib-limit", "300",
        "--search-samples", "100", "--population", "8", "--generations", "2", "--sparsity", "0.6",
        "--repair", "distill", "--distill-epochs", "1", "--test", Cli.FASHION + ":test", "--test-limit", "50",
        "--out", dir.resolve("fixed.onnx").toString(), "--report", dir.resolve("fixed.json").toString());
    assertThat(r.exitCode()).as(r.err()).isZero();
    OnnxModel sparse = OnnxModel.read(dir.resolve("fixed.onnx"));
    assertThat(io.evoc.protocol.model.TensorData.longs(sparse.initializers().get("flat_shape"))).containsExactly(1, 392);
    Map<String, Object> test = (Map<String, Object>) report(dir, "fixed").get("test");
    assertThat(((Number) test.get("samples")).intValue()).isEqualTo(50);
    assertThat((Double) test.get("kl")).isPositive();
    assertThat((Double) report(dir, "fixed").get("sparsity")).isCloseTo(0.6, org.assertj.core.api.Assertions.within(0.002));
  }

  @Test
  void badSettingsAreOneLineErrorsAndWriteNothing(@TempDir Path dir) {
    String[][] cases = {
        {"--sparsity", "1.5"},
        {"--layer-sparsity", "nosuch=0.5"},
        {"--layer-sparsity", "fc1.weight"},
        {"--sparsity", "0.5", "--method", "random"},
        {"--sparsity", "0.5", "--repair", "magic"},
        {"--sparsity", "0.5", "--time-budget", "soon"},
        {"--sparsity", "0.5", "--divergence-budget", "-1"},
        {"--sparsity", "0.5", "--divergence", "l1"},
        {"--sparsity", "0.5", "--search-samples", "0"},
        {"--sparsity", "0.5", "--prior-samples", "0"},
    };
    for (String[] c : cases) {
      Cli r = sparsify(dir, "bad", c);
      assertThat(r.exitCode()).as(String.join(" ", c) + ": " + r.err()).isEqualTo(2);
      assertThat(r.err()).startsWith("evoc: ").doesNotContain("\n").doesNotContain("Exception");
      assertThat(dir.resolve("bad.onnx")).doesNotExist();
    }
    assertThat(sparsify(dir, "bad", "--layer-sparsity", "nosuch=0.5").err()).contains("nosuch", "fc1.weight");
    // The error names each layer's node too, as a second way to name it.
    assertThat(sparsify(dir, "bad", "--layer-sparsity", "nosuch=0.5").err()).containsPattern("fc1\\.weight \\([^)]+\\)");
  }
}
