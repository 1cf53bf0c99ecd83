package io.evoc.coordinator.cli;

import io.evoc.coordinator.search.Ranges;
import io.evoc.coordinator.search.SearchSettings;
import io.evoc.coordinator.search.SearchSettings.Method;
import io.evoc.coordinator.search.SearchSettings.Repair;
import io.evoc.evaluator.data.DataLoader;
import io.evoc.evaluator.data.DataSpec;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** The flags of a sparsification, the same on {@code sparsify} and {@code compress}. */
final class SearchOptions {
  private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)");

  @Option(names = "--model", required = true, paramLabel = "FILE.onnx")
  Path model;

  @Option(names = "--calib", required = true, paramLabel = "DATA", description = "Calibration inputs, unlabelled (labels, where the data has them, are read only by compress's --max-accuracy-drop).")
  String calib;

  @Option(names = "--calib-limit", defaultValue = "0", paramLabel = "N", description = "Calibration samples loaded, the first N (default 0: all); distillation trains on all of them.")
  int calibLimit;

  @Option(names = "--search-samples", defaultValue = "1000", paramLabel = "N", description = "The first N calibration samples score the candidates: best, samples the teacher was not trained on (default ${DEFAULT-VALUE}).")
  int searchSamples;

  @Option(names = "--prior-samples", defaultValue = "10000", paramLabel = "N", description = "The first N calibration samples estimate the zeroing costs that direct the search (the curvature at the student; de only; the swaps' restore costs come from the scored samples), at least the --search-samples (default ${DEFAULT-VALUE}).")
  int priorSamples;

  @Option(names = "--sparsity", paramLabel = "F", description = "Overall weight sparsity of the prunable layers, split across them by measured sensitivity.")
  Double sparsity;

  @Option(names = "--layer-sparsity", paramLabel = "NAME=F[,...]", description = "Per-layer goals by weight "
      + "name, or by the name of the node that multiplies by it (see inspect-model); they override the split.")
  String layerSparsity;

  @Option(names = "--population", defaultValue = "64", paramLabel = "P", description = "Candidates per generation (default ${DEFAULT-VALUE}).")
  int population;

  @Option(names = "--generations", defaultValue = "4", paramLabel = "G", description = "Generations per cycle (default ${DEFAULT-VALUE}).")
  int generations;

  @Option(names = "--step", defaultValue = "0.05", paramLabel = "F", description = "Largest fraction of a layer committed per cycle (default ${DEFAULT-VALUE}).")
  double step;

  @Option(names = "--swaps", defaultValue = "100", paramLabel = "N",
      description = "At most N swap attempts once the goal is reached: a layer gives back a few pruned weights and "
          + "loses as many others, kept when the divergence drops; de only, 0: none (default ${DEFAULT-VALUE}).")
  int swaps;

  @Option(names = "--repair", defaultValue = "distill", paramLabel = "none|ls|distill", description = "Repair of the surviving weights (default ${DEFAULT-VALUE}).")
  String repair;

  @Option(names = "--distill-epochs", defaultValue = "15", paramLabel = "N", description = "Epochs of distillation over the calibration inputs (default ${DEFAULT-VALUE}).")
  int distillEpochs;

  @Option(names = "--time-budget", paramLabel = "D", description = "Stop with the best model so far after D (e.g. 90s, 10m, 1h).")
  String timeBudget;

  @Option(names = "--divergence-budget", paramLabel = "X", description = "Stop before a commit would push the calibration divergence past X.")
  Double divergenceBudget;

  @Option(names = "--divergence", defaultValue = "auto", paramLabel = "auto|kl|mse", description = "auto: KL for classifiers, MSE otherwise.")
  String divergence;

  @Option(names = "--seed", defaultValue = "1", paramLabel = "S",
      description = "Seed of every random choice: the same inputs, settings and seed give the same bytes (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--test", paramLabel = "DATA", description = "Held-out data: teacher and result compared by ONNX Runtime; never used to choose.")
  String test;

  @Option(names = "--test-limit", defaultValue = "0", paramLabel = "N", description = "Test samples, the first N (default 0: all).")
  int testLimit;

  @Option(names = "--device", defaultValue = "cpu", paramLabel = "DEVICE", description = "Scoring device: cpu, gpu or gpu:N (default ${DEFAULT-VALUE}).")
  String device;

  @Mixin PreprocessingOptions preprocessing;

  SearchSettings settings(Method method) {
    Ranges.limit("--calib-limit", calibLimit);
    Ranges.limit("--test-limit", testLimit);
    Ranges.check("--search-samples", searchSamples, 1, 1_000_000);
    if (sparsity != null && sparsity.isNaN()) {
      throw new IllegalArgumentException("--sparsity NaN: expected a fraction in (0, 1)");
    }
    Ranges.check("--prior-samples", priorSamples, 1, 1_000_000);
    return new SearchSettings(sparsity == null ? Double.NaN : sparsity, parseGoals(layerSparsity), method,
        population, generations, step, swaps, parseRepair(repair), distillEpochs, timeBudget(),
        divergenceBudget == null ? Double.POSITIVE_INFINITY : divergenceBudget, seed, 50);
  }

  /** The samples the prior is estimated on: never fewer than are scored, never more than there are. */
  int priorSamples(int calibSamples) {
    return Math.min(Math.max(priorSamples, searchSamples), calibSamples);
  }

  Duration timeBudget() {
    return timeBudget == null ? null : parseDuration(timeBudget);
  }

  /** The settings as the report records them. */
  Map<String, Object> describe(SearchSettings s, String method, int calibSamples) {
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("model", model.toString());
    settings.put("calib", calib);
    settings.put("calib_samples", calibSamples);
    settings.put("search_samples", Math.min(searchSamples, calibSamples));
    if (method.equals("de")) { // magnitude pruning has no prior to estimate
      settings.put("prior_samples", priorSamples(calibSamples));
    }
    settings.put("sparsity", s.sparsity());
    settings.put("layer_sparsity", s.layerGoals());
    settings.put("method", method);
    settings.put("population", s.population());
    settings.put("generations", s.generations());
    settings.put("step", s.step());
    settings.put("swaps", s.swaps());
    settings.put("repair", repair);
    settings.put("distill_epochs", s.distillEpochs());
    settings.put("time_budget", timeBudget);
    settings.put("divergence_budget", divergenceBudget);
    settings.put("divergence", divergence);
    settings.put("seed", s.seed());
    settings.put("device", device);
    return settings;
  }

  static Map<String, Double> parseGoals(String text) {
    Map<String, Double> goals = new LinkedHashMap<>();
    if (text == null || text.isBlank()) {
      return goals;
    }
    for (String part : text.split(",")) {
      int eq = part.lastIndexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("--layer-sparsity '" + part + "': expected NAME=FRACTION");
      }
      String name = part.substring(0, eq).trim();
      double goal;
      try {
        goal = Double.parseDouble(part.substring(eq + 1).trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--layer-sparsity '" + part + "': '" + part.substring(eq + 1) + "' is not a number");
      }
      if (goals.put(name, goal) != null) {
        throw new IllegalArgumentException("--layer-sparsity names '" + name + "' twice");
      }
    }
    return goals;
  }

  static Duration parseDuration(String text) {
    Matcher m = DURATION.matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException("--time-budget '" + text + "': expected a number and ms, s, m or h (90s, 10m)");
    }
    double v = Double.parseDouble(m.group(1));
    double millis = switch (m.group(2)) {
      case "ms" -> v;
      case "s" -> v * 1e3;
      case "m" -> v * 60e3;
      default -> v * 3600e3;
    };
    if (Math.round(millis) < 1) {
      throw new IllegalArgumentException("--time-budget '" + text + "': expected more than nothing");
    }
    return Duration.ofMillis(Math.round(millis));
  }

  private static Repair parseRepair(String text) {
    return switch (text) {
      case "none" -> Repair.NONE;
      case "ls" -> Repair.LS;
      case "distill" -> Repair.DISTILL;
      default -> throw new IllegalArgumentException("--repair '" + text + "': expected none, ls or distill");
    };
  }

  /** The files the run reads, by flag, which its outputs must not name. */
  Map<String, Path> inputs() {
    Map<String, Path> read = OutputFiles.named("--model", model);
    dataFiles(read, "--calib", calib);
    if (test != null) {
      dataFiles(read, "--test", test);
    }
    return read;
  }

  /** A data spec's files: the path named and, for IDX data, the images and labels files it reads. */
  private static void dataFiles(Map<String, Path> read, String flag, String spec) {
    read.put(flag, DataSpec.parse(spec).path());
    Path[] files = DataLoader.files(spec);
    read.put(flag + " images", files[0]);
    if (files[1] != null) {
      read.put(flag + " labels", files[1]);
    }
  }
}
