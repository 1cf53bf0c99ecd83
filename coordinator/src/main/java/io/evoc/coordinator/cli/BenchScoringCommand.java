package io.evoc.coordinator.cli;

import io.evoc.evaluator.engine.Devices;
import io.evoc.evaluator.engine.Engines;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.engine.InferenceEngine;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.scoring.CandidateScorer;
import io.evoc.evaluator.scoring.CandidateScorer.Scores;
import io.evoc.evaluator.scoring.Layer;
import io.evoc.evaluator.scoring.Metric;
import io.evoc.protocol.model.OnnxModel;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The same candidates scored three ways: a full executor pass each, incremental batched scoring, and
 * ONNX Runtime with the weights fed as inputs (what a user would write with a stock runtime). Each
 * way is warmed up and timed alone. The candidates are those of one search cycle per layer (the
 * population times the generations); incremental scoring rebuilds each layer's cache once per
 * cycle, as after a commit, and that time is counted.
 */
@Command(name = "scoring", description = "Candidates scored per second: full forward vs incremental vs ONNX Runtime.",
    mixinStandardHelpOptions = true)
final class BenchScoringCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, paramLabel = "FILE.onnx")
  Path model;

  @Option(names = "--calib", required = true, paramLabel = "DATA", description = "Calibration inputs (labels unused).")
  String calib;

  @Option(names = "--calib-limit", defaultValue = "1000", paramLabel = "N", description = "Calibration samples (default ${DEFAULT-VALUE}).")
  int calibLimit;

  @Option(names = "--population", defaultValue = "64", description = "Candidates per layer and round (default ${DEFAULT-VALUE}).")
  int population;

  @Option(names = "--step", defaultValue = "0.02", description = "Candidate size as a fraction of its layer (default ${DEFAULT-VALUE}).")
  double step;

  @Option(names = "--generations", defaultValue = "4", description = "Generations per cycle, as in sparsify (default ${DEFAULT-VALUE}).")
  int generations;

  @Option(names = "--device", defaultValue = "cpu", description = "Executor device: cpu, gpu or gpu:N (default ${DEFAULT-VALUE}).")
  String device;

  @Option(names = "--seed", defaultValue = "1")
  long seed;

  @Mixin PreprocessingOptions preprocessing;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (population < 1 || generations < 1 || !(step > 0 && step < 1) || calibLimit < 1) {
      throw new IllegalArgumentException("--population, --generations and --calib-limit must be positive, --step in (0, 1)");
    }
    OnnxModel m = OnnxModel.read(model);
    HostTensor calibration = PreparedData.load(m, calib, calibLimit, preprocessing.parse()).batch();
    PrintWriter err = spec.commandLine().getErr();
    ParameterTable student = ParameterTable.of(m);
    double full;
    double incremental;
    double ort;
    float worst = 0;
    List<Layer> layers;
    Map<Layer, List<List<int[]>>> candidates = new LinkedHashMap<>();
    try (CandidateScorer scorer = new CandidateScorer(m, student, Devices.parse(device), calibration, Metric.detect(m))) {
      layers = scorer.layers();
      SplittableRandom random = new SplittableRandom(seed);
      for (Layer layer : layers) {
        List<List<int[]>> cycle = new ArrayList<>();
        for (int g = 0; g < generations; g++) {
          cycle.add(randomSets(layer, population, step, random));
        }
        candidates.put(layer, cycle);
      }
      Layer first = layers.get(0);
      List<int[]> warmUp = candidates.get(first).get(0);
      Map<Layer, Scores> reference = new LinkedHashMap<>();
      scorer.scoreFull(first, warmUp.subList(0, Math.min(8, warmUp.size())));
      full = time(() -> candidates.forEach((l, cycle) -> cycle.forEach(c -> reference.put(l, scorer.scoreFull(l, c)))));
      scorer.score(first, warmUp);
      Map<Layer, Double> perLayer = new LinkedHashMap<>();
      incremental = time(() -> candidates.forEach((l, cycle) -> perLayer.put(l, time(() -> {
        bump(student); // a new revision: the layer's cache is rebuilt, as after a commit
        cycle.forEach(c -> scorer.score(l, c));
      }))));
      perLayer.forEach((l, seconds) -> err.printf("  incremental %s (%s): %.2f ms per candidate%n",
          l.weight(), CandidateScorer.route(l).name().toLowerCase(Locale.ROOT),
          1e3 * seconds / (population * generations)));
      for (Layer l : layers) {
        List<List<int[]>> cycle = candidates.get(l);
        worst = Math.max(worst, maxRelativeDifference(scorer.score(l, cycle.get(cycle.size() - 1)), reference.get(l)));
      }
      err.printf("incremental vs full forward: largest relative difference in divergence %.2e%n", worst);
      ort = ortRate(m, calibration, scorer, candidates);
    }
    int perRound = population * generations * layers.size();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("model", model.toString());
    out.put("calib_samples", calibration.shape()[0]);
    out.put("layers", layers.size());
    out.put("candidates", perRound);
    out.put("full_per_s", Json.hundredths(perRound / full));
    out.put("incremental_per_s", Json.hundredths(perRound / incremental));
    out.put("ort_per_s", Json.hundredths(perRound / ort));
    out.put("incremental_over_full", Json.hundredths(full / incremental));
    out.put("incremental_over_ort", Json.hundredths(ort / incremental));
    out.put("peak_rss_mb", ProcessMemory.peakRssMb());
    err.printf("%s: full forward %.1f/s, incremental %.1f/s, ONNX Runtime %.1f/s: incremental is %.1fx full, %.1fx ORT%n",
        model.getFileName(), perRound / full, perRound / incremental, perRound / ort, full / incremental, ort / incremental);
    err.flush();
    spec.commandLine().getOut().println(Json.line(out));
    spec.commandLine().getOut().flush();
    return 0;
  }

  /** Seconds one run of {@code work} takes. */
  private static double time(Runnable work) {
    long start = System.nanoTime();
    work.run();
    return (System.nanoTime() - start) / 1e9;
  }

  private static double ortRate(OnnxModel m, HostTensor calibration, CandidateScorer scorer,
      Map<Layer, List<List<int[]>>> candidates) {
    ParameterTable weights = ParameterTable.of(m);
    String input = m.inputs().get(0).name();
    try (InferenceEngine ort = Engines.open(m, "ort", "cpu", weights)) {
      List<String> first = List.of(ort.outputNames().get(0));
      ort.run(Map.of(input, calibration), first);
      return time(() -> candidates.forEach((layer, cycle) -> {
        float[] original = weights.get(layer.weight());
        for (int[] set : cycle.stream().flatMap(List::stream).toList()) {
          float[] w = original.clone();
          for (int i : set) {
            w[i] = 0;
          }
          weights.set(layer.weight(), w);
          scorer.scoreOutput(ort.run(Map.of(input, calibration), first).get(first.get(0)));
        }
        weights.set(layer.weight(), original);
      }));
    }
  }

  private static void bump(ParameterTable table) {
    String any = table.names().iterator().next();
    table.set(any, table.entry(any).values());
  }

  private static List<int[]> randomSets(Layer layer, int count, double fraction, SplittableRandom random) {
    int size = Math.toIntExact(layer.size());
    int k = Math.max(1, (int) Math.round(size * fraction));
    List<int[]> sets = new ArrayList<>(count);
    for (int p = 0; p < count; p++) {
      sets.add(random.ints(0, size).distinct().limit(k).sorted().toArray());
    }
    return sets;
  }

  private static float maxRelativeDifference(Scores a, Scores b) {
    float worst = 0;
    for (int i = 0; i < a.divergence().length; i++) {
      float d = Math.abs(a.divergence()[i] - b.divergence()[i]) / Math.max(1e-6f, Math.abs(b.divergence()[i]));
      worst = Math.max(worst, d);
    }
    return worst;
  }

}
