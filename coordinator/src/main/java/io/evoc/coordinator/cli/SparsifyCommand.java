package io.evoc.coordinator.cli;

import io.evoc.coordinator.search.SearchSettings;
import io.evoc.coordinator.search.SearchSettings.Method;
import io.evoc.coordinator.search.SparsifyResult;
import io.evoc.evaluator.scoring.CandidateScorer;
import io.evoc.evaluator.scoring.Layer;
import io.evoc.protocol.model.OnnxModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "sparsify", mixinStandardHelpOptions = true,
    description = "Zeroes weights by directed evolution (or magnitude), teacher = the model itself; writes the sparse"
        + " model and a JSON report.")
final class SparsifyCommand implements Callable<Integer> {
  @Mixin SearchOptions search;

  @Option(names = "--method", defaultValue = "de", paramLabel = "de|magnitude", description = "de: directed evolution (default); magnitude: the baseline.")
  String method;

  @Option(names = "--out", required = true, paramLabel = "SPARSE.onnx")
  Path out;

  @Option(names = "--report", required = true, paramLabel = "R.json")
  Path report;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    SearchSettings settings = search.settings(parseMethod(method));
    OutputFiles.check(OutputFiles.named("--out", out, "--report", report), search.inputs());
    SparsifyResult result;
    SparsifyJob job = new SparsifyJob(search);
    try (job) {
      result = job.sparsify(settings, spec.commandLine().getErr(), null);
    }
    OnnxModel sparse = job.teacher.withWeights(job.student.snapshot());
    sparse.write(out);
    TestComparison comparison = job.testData == null ? null
        : TestComparison.run(job.teacher, OnnxModel.read(out), job.testData, 1000);
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("settings", search.describe(settings, method, job.calibration.data().size()));
    r.putAll(report(job.scorer.layers(), result));
    if (comparison != null) {
      r.put("test", comparison.describe(search.test));
    }
    Json.writeAtomically(report, r);
    spec.commandLine().getErr().printf("sparsify: %s, %.1f%% sparse, calibration divergence %.5f, agreement %.4f, "
        + "%.0f candidates/s, %.1f s%s%n", result.stopReason(), 100 * result.sparsity(), result.divergence(),
        result.agreement(), result.candidatesPerSecond(), result.seconds(),
        comparison == null ? "" : comparison.summary());
    spec.commandLine().getErr().flush();
    return 0;
  }

  /** The search's part of a report: per-layer sparsity, calibration scores, speed and the trace. */
  static Map<String, Object> report(List<Layer> layers, SparsifyResult result) {
    Map<String, Object> r = new LinkedHashMap<>();
    List<Map<String, Object>> perLayer = new java.util.ArrayList<>();
    for (Layer l : layers) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("weight", l.weight());
      e.put("node", l.node());
      e.put("op", l.opType());
      e.put("size", l.size());
      e.put("goal", result.layerGoals().get(l.weight()));
      e.put("sparsity", result.layerSparsity().get(l.weight()));
      e.put("scoring", CandidateScorer.route(l).name().toLowerCase(Locale.ROOT));
      perLayer.add(e);
    }
    r.put("layers", perLayer);
    r.put("sparsity", result.sparsity());
    r.put("stop_reason", result.stopReason());
    r.put("calibration", Map.of("divergence", result.divergence(), "agreement", result.agreement()));
    r.put("candidates_scored", result.candidatesScored());
    r.put("candidates_per_s", Math.round(result.candidatesPerSecond() * 10) / 10.0);
    r.put("seconds", Json.hundredths(result.seconds()));
    r.put("scoring_seconds", Json.hundredths(result.scoringSeconds()));
    r.put("scoring_candidates_per_s", Math.round(result.scoringCandidatesPerSecond() * 10) / 10.0);
    r.put("trace", result.trace());
    return r;
  }

  static Method parseMethod(String text) {
    return switch (text) {
      case "de" -> Method.DE;
      case "magnitude" -> Method.MAGNITUDE;
      default -> throw new IllegalArgumentException("--method '" + text + "': expected de or magnitude");
    };
  }
}
