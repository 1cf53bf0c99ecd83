package io.evoc.coordinator.cli;

import io.evoc.coordinator.search.SearchSettings;
import io.evoc.coordinator.search.SearchSettings.Method;
import io.evoc.coordinator.search.SearchSettings.Repair;
import io.evoc.coordinator.search.Sparsifier;
import io.evoc.coordinator.search.SparsifyResult;
import io.evoc.evaluator.engine.Devices;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.scoring.CandidateScorer;
import io.evoc.evaluator.scoring.Layer;
import io.evoc.evaluator.scoring.Metric;
import io.evoc.protocol.model.OnnxModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "sparsify", mixinStandardHelpOptions = true,
    description = "Zeroes weights by directed evolution (or magnitude), teacher = the model itself; writes the sparse"
        + " model and a JSON report.")
final class SparsifyCommand implements Callable<Integer> {
  private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)");

  @Option(names = "--model", required = true, paramLabel = "FILE.onnx")
  Path model;

  @Option(names = "--calib", required = true, paramLabel = "DATA", description = "Unlabelled calibration inputs (labels, if any, are ignored).")
  String calib;

  @Option(names = "--calib-limit", defaultValue = "0", paramLabel = "N", description = "Calibration samples loaded, the first N (default: all); distillation trains on all of them.")
  int calibLimit;

  @Option(names = "--search-samples", defaultValue = "1000", paramLabel = "N", description = "The first N calibration samples score candidates and least-squares refits (default ${DEFAULT-VALUE}).")
  int searchSamples;

  @Option(names = "--sparsity", paramLabel = "F", description = "Overall weight sparsity of the prunable layers, split across them by measured sensitivity.")
  Double sparsity;

  @Option(names = "--layer-sparsity", paramLabel = "NAME=F[,...]", description = "Per-layer goals by weight name; they override the split.")
  String layerSparsity;

  @Option(names = "--method", defaultValue = "de", paramLabel = "de|magnitude", description = "de: directed evolution (default); magnitude: the baseline.")
  String method;

  @Option(names = "--population", defaultValue = "64", description = "Candidates per generation (default ${DEFAULT-VALUE}).")
  int population;

  @Option(names = "--generations", defaultValue = "4", description = "Generations per cycle (default ${DEFAULT-VALUE}).")
  int generations;

  @Option(names = "--step", defaultValue = "0.05", description = "Largest fraction of a layer committed per cycle (default ${DEFAULT-VALUE}).")
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

  @Option(names = "--seed", defaultValue = "1")
  long seed;

  @Option(names = "--test", paramLabel = "DATA", description = "Held-out data: teacher and student compared by ONNX Runtime on the written files.")
  String test;

  @Option(names = "--test-limit", defaultValue = "0", paramLabel = "N", description = "Test samples (default: all).")
  int testLimit;

  @Option(names = "--device", defaultValue = "cpu", description = "Scoring device: cpu, gpu or gpu:N (default ${DEFAULT-VALUE}).")
  String device;

  @Option(names = "--out", required = true, paramLabel = "SPARSE.onnx")
  Path out;

  @Option(names = "--report", required = true, paramLabel = "R.json")
  Path report;

  @Mixin PreprocessingOptions preprocessing;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    if (calibLimit < 0 || searchSamples < 1 || testLimit < 0) {
      throw new IllegalArgumentException("--calib-limit must be >= 0 (0: all), --search-samples >= 1, --test-limit >= 0");
    }
    SearchSettings settings = new SearchSettings(sparsity == null ? Double.NaN : sparsity, parseGoals(layerSparsity),
        parseMethod(method), population, generations, step, swaps, parseRepair(repair), distillEpochs,
        timeBudget == null ? null : parseDuration(timeBudget),
        divergenceBudget == null ? Double.POSITIVE_INFINITY : divergenceBudget, seed, 50);
    OnnxModel teacher = OnnxModel.read(model);
    PreparedData calibration = PreparedData.load(teacher, calib, calibLimit, preprocessing.parse());
    PreparedData testData = test == null ? null : PreparedData.load(teacher, test, testLimit, preprocessing.parse());
    ParameterTable student = ParameterTable.of(teacher);
    Metric metric = Metric.parse(divergence, teacher);
    HostTensor all = calibration.batch();
    HostTensor batch = all.head(searchSamples);
    SparsifyResult result;
    List<Layer> layers;
    boolean terminal = System.console() != null;
    try (CandidateScorer scorer = new CandidateScorer(teacher, student, Devices.parse(device), batch, metric);
        SearchProgress progress = new SearchProgress(spec.commandLine().getErr(),
            sparsity != null ? sparsity : 1.0, terminal)) {
      layers = scorer.layers();
      // Ctrl-C: the search stops at the next generation and writes what it has.
      java.util.concurrent.atomic.AtomicBoolean cancelled = new java.util.concurrent.atomic.AtomicBoolean();
      Thread hook = new Thread(() -> cancelled.set(true));
      Runtime.getRuntime().addShutdownHook(hook);
      try {
        result = new Sparsifier(scorer, all, student, settings, cancelled::get, progress).run();
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          // already exiting: the hook ran
        }
      }
    }
    OnnxModel sparse = teacher.withWeights(student.snapshot());
    sparse.write(out);
    TestComparison comparison = testData == null ? null
        : TestComparison.run(teacher, OnnxModel.read(out), testData, 1000);
    Map<String, Object> r = report(settings, metric, calibration, layers, result, comparison);
    writeAtomically(report, Json.pretty(r));
    spec.commandLine().getErr().printf("sparsify: %s, %.1f%% sparse, calibration divergence %.5f, agreement %.4f, "
        + "%.0f candidates/s, %.1f s%s%n", result.stopReason(), 100 * result.sparsity(), result.divergence(),
        result.agreement(), result.candidatesPerSecond(), result.seconds(),
        comparison == null ? "" : String.format(", test accuracy %.2f%% (teacher %.2f%%), test KL %.5f",
            100 * comparison.studentAccuracy(), 100 * comparison.teacherAccuracy(), comparison.kl()));
    spec.commandLine().getErr().flush();
    return 0;
  }

  private Map<String, Object> report(SearchSettings s, Metric metric, PreparedData calibration, List<Layer> layers,
      SparsifyResult result, TestComparison comparison) {
    Map<String, Object> r = new LinkedHashMap<>();
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("model", model.toString());
    settings.put("calib", calib);
    settings.put("calib_samples", calibration.data().size());
    settings.put("search_samples", Math.min(searchSamples, calibration.data().size()));
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
    settings.put("divergence", metric.name().toLowerCase(Locale.ROOT));
    settings.put("seed", s.seed());
    settings.put("device", device);
    r.put("settings", settings);
    List<Map<String, Object>> perLayer = new java.util.ArrayList<>();
    for (Layer l : layers) {
      Map<String, Object> e = new LinkedHashMap<>();
      e.put("weight", l.weight());
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
    if (comparison != null) {
      Map<String, Object> t = new LinkedHashMap<>();
      t.put("data", test);
      t.put("samples", comparison.samples());
      t.put("teacher_accuracy", comparison.teacherAccuracy());
      t.put("student_accuracy", comparison.studentAccuracy());
      t.put("kl", comparison.kl());
      t.put("agreement", comparison.agreement());
      r.put("test", t);
    }
    r.put("candidates_scored", result.candidatesScored());
    r.put("candidates_per_s", Math.round(result.candidatesPerSecond() * 10) / 10.0);
    r.put("seconds", Json.hundredths(result.seconds()));
    r.put("trace", result.trace());
    return r;
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
      try {
        goals.put(part.substring(0, eq).trim(), Double.parseDouble(part.substring(eq + 1).trim()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--layer-sparsity '" + part + "': '" + part.substring(eq + 1) + "' is not a number");
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
    return Duration.ofMillis(Math.round(millis));
  }

  private static Method parseMethod(String text) {
    return switch (text) {
      case "de" -> Method.DE;
      case "magnitude" -> Method.MAGNITUDE;
      default -> throw new IllegalArgumentException("--method '" + text + "': expected de or magnitude");
    };
  }

  private static Repair parseRepair(String text) {
    return switch (text) {
      case "none" -> Repair.NONE;
      case "ls" -> Repair.LS;
      case "distill" -> Repair.DISTILL;
      default -> throw new IllegalArgumentException("--repair '" + text + "': expected none, ls or distill");
    };
  }

  private static void writeAtomically(Path file, String text) throws IOException {
    Path dir = file.toAbsolutePath().getParent();
    Files.createDirectories(dir);
    Path tmp = Files.createTempFile(dir, ".report", ".tmp");
    try {
      Files.writeString(tmp, text + "\n", StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException | UncheckedIOException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
  }
}
