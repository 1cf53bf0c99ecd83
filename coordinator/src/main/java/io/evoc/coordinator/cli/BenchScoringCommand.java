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
import java.util.Arrays;
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
 * way is timed alone, the three in turn for {@code --rounds} rounds after one round of warm-up,
 * and the medians are reported. The candidates are those of one search cycle per layer (the
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

  @Option(names = "--rounds", defaultValue = "3",
      description = "Timed rounds of the three ways in turn, after one of warm-up; medians are reported "
          + "(default ${DEFAULT-VALUE}).")
  int rounds;

  @Mixin PreprocessingOptions preprocessing;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (population < 1 || generations < 1 || !(step > 0 && step < 1) || calibLimit < 1 || rounds < 1 || rounds > 100) {
      throw new IllegalArgumentException(
          "--population, --generations and --calib-limit must be positive, --rounds 1 to 100, --step in (0, 1)");
    }
    OnnxModel m = OnnxModel.read(model);
    PreparedData prepared = PreparedData.load(m, calib, calibLimit, preprocessing.parse());
    HostTensor calibration = prepared.batch();
    PrintWriter err = spec.commandLine().getErr();
    ParameterTable student = ParameterTable.of(m);
    double[] full = new double[rounds];
    double[] incremental = new double[rounds];
    double[] ort = new double[rounds];
    float worst = 0;
    float worstOrt = 0;
    List<Layer> layers;
    int perRound;
    Map<Layer, List<List<int[]>>> candidates = new LinkedHashMap<>();
    try (CandidateScorer scorer = new CandidateScorer(m, student, Devices.parse(device), calibration, Metric.detect(m))) {
      layers = scorer.layers();
      perRound = population * generations * layers.size();
      SplittableRandom random = new SplittableRandom(seed);
      for (Layer layer : layers) {
        List<List<int[]>> cycle = new ArrayList<>();
        for (int g = 0; g < generations; g++) {
          cycle.add(randomSets(layer, population, step, random));
        }
        candidates.put(layer, cycle);
      }
      Map<Layer, Scores> reference = new LinkedHashMap<>();
      Map<Layer, float[]> ortScores = new LinkedHashMap<>();
      Map<Layer, Double> perLayer = new LinkedHashMap<>();
      // The three ways take turns, round after round: a machine that speeds up or slows down
      // between rounds moves all three, and the medians of the rounds are reported. ONNX Runtime
      // is opened for its turn only: its idle threads spinning beside libtorch's slowed the executor.
      // Round 0 warms up and is not counted: after a warm-up of a few candidates the first round
      // ran 25-40% slower than the next two, incremental scoring most (the JIT and the heap still
      // warming up, presumably).
      for (int r = 0; r <= rounds; r++) {
        double f = time(() -> candidates.forEach((l, cycle) -> cycle.forEach(c -> reference.put(l, scorer.scoreFull(l, c)))));
        Map<Layer, Double> layerSeconds = new LinkedHashMap<>();
        double i = time(() -> candidates.forEach((l, cycle) -> layerSeconds.put(l, time(() -> {
          bump(student); // a new revision: the layer's cache is rebuilt, as after a commit
          cycle.forEach(c -> scorer.score(l, c));
        }))));
        double o = ortTime(m, prepared, scorer, candidates, ortScores);
        err.printf("  %s: full forward %.1f/s, incremental %.1f/s, ONNX Runtime %.1f/s%n",
            r == 0 ? "warm-up" : "round " + r, perRound / f, perRound / i, perRound / o);
        if (r > 0) {
          full[r - 1] = f;
          incremental[r - 1] = i;
          ort[r - 1] = o;
          layerSeconds.forEach((l, seconds) -> perLayer.merge(l, seconds, Double::sum));
        }
      }
      perLayer.forEach((l, seconds) -> err.printf("  incremental %s (%s): %.2f ms per candidate%n",
          l.weight(), CandidateScorer.route(l).name().toLowerCase(Locale.ROOT),
          1e3 * seconds / (population * generations * rounds)));
      for (Layer l : layers) {
        List<List<int[]>> cycle = candidates.get(l);
        worst = Math.max(worst, maxRelativeDifference(scorer.score(l, cycle.get(cycle.size() - 1)).divergence(),
            reference.get(l).divergence()));
        worstOrt = Math.max(worstOrt, maxRelativeDifference(ortScores.get(l), reference.get(l).divergence()));
      }
      err.printf("incremental vs full forward: largest relative difference in divergence %.2e%n", worst);
      err.printf("ONNX Runtime vs full forward: largest relative difference in divergence %.2e%n", worstOrt);
    }
    double[] overFull = new double[rounds];
    double[] overOrt = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      overFull[r] = full[r] / incremental[r];
      overOrt[r] = ort[r] / incremental[r];
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("model", model.toString());
    out.put("calib_samples", calibration.shape()[0]);
    out.put("layers", layers.size());
    out.put("candidates", perRound);
    out.put("rounds", rounds);
    out.put("full_per_s", Json.hundredths(perRound / Medians.of(full)));
    out.put("incremental_per_s", Json.hundredths(perRound / Medians.of(incremental)));
    out.put("ort_per_s", Json.hundredths(perRound / Medians.of(ort)));
    out.put("incremental_over_full", Json.hundredths(Medians.of(overFull)));
    out.put("incremental_over_ort", Json.hundredths(Medians.of(overOrt)));
    out.put("incremental_over_full_rounds", Arrays.stream(overFull).mapToObj(Json::hundredths).toList());
    out.put("incremental_over_ort_rounds", Arrays.stream(overOrt).mapToObj(Json::hundredths).toList());
    out.put("peak_rss_mb", ProcessMemory.peakRssMb());
    err.printf("%s: full forward %.1f/s, incremental %.1f/s, ONNX Runtime %.1f/s (medians of %d rounds): "
        + "incremental is %.1fx full (rounds %s), %.1fx ORT (rounds %s)%n", model.getFileName(),
        perRound / Medians.of(full), perRound / Medians.of(incremental), perRound / Medians.of(ort), rounds,
        Medians.of(overFull), brief(overFull), Medians.of(overOrt), brief(overOrt));
    err.flush();
    spec.commandLine().getOut().println(Json.line(out));
    spec.commandLine().getOut().flush();
    return 0;
  }

  private static String brief(double[] values) {
    return String.join(" ", Arrays.stream(values).mapToObj(v -> String.format(Locale.ROOT, "%.1f", v)).toList());
  }

  /** Seconds one run of {@code work} takes. */
  private static double time(Runnable work) {
    long start = System.nanoTime();
    work.run();
    return (System.nanoTime() - start) / 1e9;
  }

  /**
   * Seconds ONNX Runtime takes for every candidate, its weights fed as inputs (opened and warmed up
   * first), all samples in one call (a fixed batch: that many per call, as a stock runtime must);
   * {@code last} gets each layer's divergences of its last generation, to check against the executor's.
   */
  private static double ortTime(OnnxModel m, PreparedData calibration, CandidateScorer scorer,
      Map<Layer, List<List<int[]>>> candidates, Map<Layer, float[]> last) {
    ParameterTable weights = ParameterTable.of(m);
    int all = calibration.data().size();
    try (InferenceEngine ort = Engines.open(m, "ort", "cpu", weights)) {
      calibration.firstOutput(ort, all);
      return time(() -> candidates.forEach((layer, cycle) -> {
        float[] original = weights.get(layer.weight());
        List<int[]> sets = cycle.stream().flatMap(List::stream).toList();
        float[] divergences = new float[cycle.get(cycle.size() - 1).size()];
        for (int k = 0; k < sets.size(); k++) {
          float[] w = original.clone();
          for (int i : sets.get(k)) {
            w[i] = 0;
          }
          weights.set(layer.weight(), w);
          Scores scores = scorer.scoreOutput(calibration.firstOutput(ort, all));
          int j = k - (sets.size() - divergences.length);
          if (j >= 0) {
            divergences[j] = scores.divergence()[0];
          }
        }
        last.put(layer, divergences);
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

  private static float maxRelativeDifference(float[] a, float[] b) {
    float worst = 0;
    for (int i = 0; i < a.length; i++) {
      float d = Math.abs(a[i] - b[i]) / Math.max(1e-6f, Math.abs(b[i]));
      worst = Math.max(worst, d);
    }
    return worst;
  }

}
