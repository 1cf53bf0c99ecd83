package io.evoc.coordinator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.evoc.evaluator.data.Preprocessing;
import io.evoc.evaluator.engine.Devices;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.scoring.CandidateScorer;
import io.evoc.evaluator.scoring.Metric;
import io.evoc.protocol.model.OnnxModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole pipeline on the example MLP, small and fast; quality runs live in examples/compress-quality.sh. */
class CompressCommandTest {
  private static final String MLP = Cli.path("examples/models/fashion-mlp.onnx");
  private static final int CALIB = 300;

  private static Cli compress(Path dir, String name, String... extra) {
    List<String> args = new ArrayList<>(List.of("compress", "--model", MLP, "--calib", Cli.FASHION + ":train",
        "--calib-limit", Integer.toString(CALIB), "--population", "8", "--generations", "2", "--step", "0.2",
        "--pareto-population", "8", "--pareto-generations", "2", "--out", dir.resolve(name + ".evoc").toString(),
        "--report", dir.resolve(name + ".json").toString()));
    args.addAll(List.of(extra));
    return Cli.run(args.toArray(String[]::new));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> report(Path dir, String name) throws IOException {
    return new ObjectMapper().readValue(dir.resolve(name + ".json").toFile(), Map.class);
  }

  @Test
  @SuppressWarnings("unchecked")
  void deBitsDecodesToExactlyWhatWasScoredAndRepeatsByteForByte(@TempDir Path dir) throws IOException {
    // Candidates scored on 100 samples, the budget judged on all 300.
    String[] flags = {"--method", "de+bits", "--sparsity", "0.6", "--repair", "none", "--swaps", "4", "--seed", "3",
        "--search-samples", "100"};
    Cli r = compress(dir, "a", flags);
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(r.out()).contains("parameter ratio").contains("container");
    Map<String, Object> rep = report(dir, "a");
    List<Map<String, Object>> front = (List<Map<String, Object>>) rep.get("front");
    assertThat(front).isNotEmpty();
    for (int i = 1; i < front.size(); i++) {
      // A front: bytes rise, divergence falls.
      assertThat(((Number) front.get(i).get("bytes")).longValue())
          .isGreaterThanOrEqualTo(((Number) front.get(i - 1).get("bytes")).longValue());
      assertThat((Double) front.get(i).get("divergence")).isLessThanOrEqualTo((Double) front.get(i - 1).get("divergence"));
    }
    Map<String, Object> chosen = front.get((Integer) rep.get("chosen"));
    Map<String, Object> bytes = (Map<String, Object>) rep.get("bytes");
    assertThat(((Number) bytes.get("total")).longValue()).isEqualTo(Files.size(dir.resolve("a.evoc")));

    Cli d = Cli.run("decompress", dir.resolve("a.evoc").toString(), "--out", dir.resolve("a.onnx").toString());
    assertThat(d.exitCode()).as(d.err()).isZero();
    OnnxModel decoded = OnnxModel.read(dir.resolve("a.onnx"));
    // Every layer holds zeros where pruned and at most 2^bits other values.
    for (Map<String, Object> l : (List<Map<String, Object>>) rep.get("layers")) {
      float[] w = decoded.floats((String) l.get("weight"));
      Set<Float> values = new HashSet<>();
      long zeros = 0;
      for (float v : w) {
        if (v == 0) {
          zeros++;
        } else {
          values.add(v);
        }
      }
      int bits = Integer.parseInt(((String) l.get("quantization")).split("/")[1]);
      assertThat(values.size()).isLessThanOrEqualTo(1 << bits).isLessThanOrEqualTo((Integer) l.get("levels"));
      assertThat((double) zeros / w.length).isCloseTo((Double) l.get("sparsity"), org.assertj.core.api.Assertions.within(1e-9));
    }
    // The accuracy the budget was judged on is the decoded model's on all 300 calibration samples, as
    // ONNX Runtime measures it against the teacher's.
    assertThat(((Map<String, Object>) rep.get("settings")).get("judge_samples")).isEqualTo(CALIB);
    double teacherAccuracy = calibrationAccuracy(MLP);
    double decodedAccuracy = calibrationAccuracy(dir.resolve("a.onnx").toString());
    assertThat((Double) chosen.get("calibration_accuracy_drop"))
        .isCloseTo(100 * (teacherAccuracy - decodedAccuracy), org.assertj.core.api.Assertions.within(1e-9));
    // Scored again from the decoded file, on the samples that score candidates: the same divergence, to the bit.
    OnnxModel teacher = OnnxModel.read(Path.of(MLP));
    PreparedData calib = PreparedData.load(teacher, Cli.FASHION + ":train", 100, Preprocessing.parse(null, null, null));
    try (CandidateScorer scorer = new CandidateScorer(teacher, ParameterTable.of(decoded), Devices.parse("cpu"),
        calib.batch(), Metric.parse("auto", teacher))) {
      assertThat((double) scorer.scoreStudent().divergence()[0]).isEqualTo((Double) chosen.get("divergence"));
    }

    Cli again = compress(dir, "b", flags);
    assertThat(again.exitCode()).as(again.err()).isZero();
    assertThat(Files.readAllBytes(dir.resolve("b.evoc"))).isEqualTo(Files.readAllBytes(dir.resolve("a.evoc")));

    Cli inspect = Cli.run("inspect", dir.resolve("a.evoc").toString());
    assertThat(inspect.exitCode()).as(inspect.err()).isZero();
    Map<String, Object> summary = inspect.json();
    assertThat(summary.get("bytes")).isEqualTo(bytes);
    // The three layers, then the parameters put on grids.
    assertThat((List<Object>) summary.get("tensors")).hasSize(3 + ((List<Object>) rep.get("grids")).size());
    assertThat(((Map<String, Object>) summary.get("settings")).get("method")).isEqualTo("de+bits");
  }

  private static double calibrationAccuracy(String model) {
    Cli e = Cli.run("eval", "--model", model, "--data", Cli.FASHION + ":train", "--limit", Integer.toString(CALIB),
        "--engine", "ort");
    assertThat(e.exitCode()).as(e.err()).isZero();
    return (Double) e.json().get("accuracy");
  }

  @Test
  @SuppressWarnings("unchecked")
  void weightSharingOnTheDenseModelUsesOneCodebookForAllLayers(@TempDir Path dir) throws IOException {
    Cli r = compress(dir, "w", "--method", "weight-sharing", "--test", Cli.FASHION + ":test", "--test-limit", "300");
    assertThat(r.exitCode()).as(r.err()).isZero();
    Map<String, Object> rep = report(dir, "w");
    List<Map<String, Object>> layers = (List<Map<String, Object>>) rep.get("layers");
    String label = (String) layers.get(0).get("quantization");
    assertThat(label).startsWith("shared/");
    int shared = Integer.parseInt(label.split("/")[1]);
    assertThat(layers).allSatisfy(l -> assertThat(l.get("quantization")).isEqualTo(label));
    Cli d = Cli.run("decompress", dir.resolve("w.evoc").toString(), "--out", dir.resolve("w.onnx").toString());
    assertThat(d.exitCode()).as(d.err()).isZero();
    OnnxModel decoded = OnnxModel.read(dir.resolve("w.onnx"));
    Set<Float> all = new HashSet<>();
    for (Map<String, Object> l : layers) {
      for (float v : decoded.floats((String) l.get("weight"))) {
        all.add(v);
      }
    }
    all.remove(0f);
    assertThat(all).hasSizeLessThanOrEqualTo(shared);
    // The biases are coded on grids of their own, beside the shared codebook.
    List<Map<String, Object>> grids = (List<Map<String, Object>>) rep.get("grids");
    assertThat(grids).extracting(g -> g.get("parameter")).contains("fc1.bias");
    for (Map<String, Object> g : grids) {
      int bits = Integer.parseInt(((String) g.get("quantization")).split("/")[1]);
      assertThat(bits).isBetween(2, 12);
      Set<Float> levels = new HashSet<>();
      for (float v : decoded.floats((String) g.get("parameter"))) {
        levels.add(v);
      }
      assertThat(levels).hasSizeLessThanOrEqualTo(1 << bits);
    }
    assertThat((Double) rep.get("parameter_ratio_without_codebooks")).isGreaterThan((Double) rep.get("parameter_ratio"));
    assertThat((List<Map<String, Object>>) rep.get("front")).allSatisfy(p -> assertThat(p.get("test_accuracy")).isNotNull());
  }

  /** Without a quantizer the survivors are kept exactly: tens of thousands of distinct values, coded raw. */
  @Test
  @SuppressWarnings("unchecked")
  void aSparsifierAloneIsLossless(@TempDir Path dir) throws IOException {
    String[] common = {"--method", "magnitude", "--sparsity", "0.9", "--repair", "none"};
    Cli r = compress(dir, "l", common);
    assertThat(r.exitCode()).as(r.err()).isZero();
    Cli sparse = Cli.run(concat(new String[] {"sparsify", "--model", MLP, "--calib", Cli.FASHION + ":train",
        "--calib-limit", Integer.toString(CALIB), "--out", dir.resolve("s.onnx").toString(), "--report",
        dir.resolve("s.json").toString()}, common));
    assertThat(sparse.exitCode()).as(sparse.err()).isZero();
    Cli d = Cli.run("decompress", dir.resolve("l.evoc").toString(), "--out", dir.resolve("l.onnx").toString());
    assertThat(d.exitCode()).as(d.err()).isZero();
    OnnxModel decoded = OnnxModel.read(dir.resolve("l.onnx"));
    OnnxModel student = OnnxModel.read(dir.resolve("s.onnx"));
    assertThat((List<Object>) report(dir, "l").get("grids")).as("nothing on grids").isEmpty();
    for (String w : List.of("fc1.weight", "fc2.weight", "fc3.weight", "fc1.bias", "fc2.bias", "fc3.bias")) {
      float[] got = decoded.floats(w);
      float[] want = student.floats(w);
      assertThat(got.length).isEqualTo(want.length);
      // Compared bit for bit, but reported as a count: a failure message of 235,200 floats helps nobody.
      long differ = java.util.stream.IntStream.range(0, got.length)
          .filter(i -> Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i])).count();
      int first = java.util.stream.IntStream.range(0, got.length)
          .filter(i -> Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(want[i])).findFirst().orElse(-1);
      assertThat(differ).as("%s: entries that differ (first %d: %s, expected %s)", w, first,
          first < 0 ? "" : got[first], first < 0 ? "" : want[first]).isZero();
    }
    Map<String, Object> summary = Cli.run("inspect", dir.resolve("l.evoc").toString()).json();
    Map<String, Object> fc1 = ((List<Map<String, Object>>) summary.get("tensors")).get(0);
    assertThat((Map<String, Object>) fc1.get("raw_values")).containsEntry("coding", "rans_byte_planes");
  }

  private static String[] concat(String[] a, String[] b) {
    String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  @Test
  void damagedContainersAndBadMethodsAreOneLineErrors(@TempDir Path dir) throws IOException {
    Cli bad = compress(dir, "x", "--method", "bits");
    assertThat(bad.exitCode()).isEqualTo(2);
    assertThat(bad.err()).startsWith("evoc: --method 'bits'").doesNotContain("\n");
    Cli dense = compress(dir, "x", "--method", "weight-sharing", "--sparsity", "0.5");
    assertThat(dense.exitCode()).isEqualTo(2);
    assertThat(dense.err()).contains("--sparsity").doesNotContain("\n");
    assertThat(dir.resolve("x.evoc")).doesNotExist();

    Path junk = dir.resolve("junk.evoc");
    Files.write(junk, new byte[] {'E', 'V', 'O', 'C', 1, 2, 3});
    Cli d = Cli.run("decompress", junk.toString(), "--out", dir.resolve("junk.onnx").toString());
    assertThat(d.exitCode()).isEqualTo(2);
    assertThat(d.err()).startsWith("evoc: ").contains(junk.toString()).doesNotContain("\n");
    assertThat(dir.resolve("junk.onnx")).doesNotExist();
    Cli i = Cli.run("inspect", dir.resolve("missing.evoc").toString());
    assertThat(i.exitCode()).isEqualTo(2);
    assertThat(i.err()).contains("missing.evoc").doesNotContain("\n");
  }
}
