package io.evoc.coordinator.cli;

import io.evoc.coordinator.finalization.BudgetJudge;
import io.evoc.coordinator.finalization.FinalizeSettings;
import io.evoc.coordinator.finalization.FinalizeSettings.Quantization;
import io.evoc.coordinator.finalization.Finalizer;
import io.evoc.coordinator.finalization.FrontPoint;
import io.evoc.coordinator.quantize.GridParameters;
import io.evoc.coordinator.search.Generation;
import io.evoc.coordinator.search.SearchSettings;
import io.evoc.coordinator.search.SearchSettings.Method;
import io.evoc.coordinator.search.Sparsifier;
import io.evoc.coordinator.search.SparsifyResult;
import io.evoc.coordinator.search.TraceEntry;
import io.evoc.evaluator.engine.Devices;
import io.evoc.evaluator.graph.GraphExecutor;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.scoring.CandidateScorer;
import io.evoc.evaluator.scoring.CandidateScoring;
import io.evoc.evaluator.scoring.StudentScoring;
import io.evoc.evaluator.scoring.Layer;
import io.evoc.protocol.container.Container;
import io.evoc.protocol.container.ContainerFile;
import io.evoc.protocol.container.ContainerSummary;
import io.evoc.protocol.container.ModelPacking;
import io.evoc.protocol.container.ParetoPoint;
import io.evoc.protocol.container.QuantizedTensor;
import io.evoc.protocol.model.OnnxModel;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "compress", mixinStandardHelpOptions = true,
    description = "The whole pipeline: sparsify, quantize (per-layer bits or one shared codebook), entropy-code into"
        + " a .evoc container; writes a JSON report with the Pareto front and prints the result table.")
public final class CompressCommand implements Callable<Integer> {
  private static final double DEFAULT_SPARSITY = 0.9;
  private static final double DEFAULT_ACCURACY_DROP = 1.0;

  @Mixin SearchOptions search;

  @Option(names = "--method", defaultValue = "de+weight-sharing", paramLabel = "METHOD",
      description = "SPARSIFIER[+QUANTIZER]: de or magnitude, then bits (per-layer bit search) or weight-sharing "
          + "(one shared codebook); weight-sharing alone works on the dense model; without a quantizer the "
          + "survivors are kept exactly (default ${DEFAULT-VALUE}).")
  String method;

  @Option(names = "--max-accuracy-drop", paramLabel = "POINTS",
      description = "Calibration accuracy the result may lose (its labels, or agreement with the teacher without "
          + "them); default " + DEFAULT_ACCURACY_DROP + " unless --max-divergence is given.")
  Double maxAccuracyDrop;

  @Option(names = "--max-divergence", paramLabel = "X", description = "Calibration divergence the result may reach.")
  Double maxDivergence;

  @Option(names = "--judge-samples", defaultValue = "10000", paramLabel = "N",
      description = "The first N calibration samples judge --max-accuracy-drop, on each point of the front: a top-1"
          + " rate on the 1,000 that score candidates moves by about a point by chance (default ${DEFAULT-VALUE}).")
  int judgeSamples;

  @Option(names = "--pareto-population", defaultValue = "24", paramLabel = "N",
      description = "NSGA-II population of the finalization searches (default ${DEFAULT-VALUE}).")
  int paretoPopulation;

  @Option(names = "--pareto-generations", defaultValue = "20", paramLabel = "N",
      description = "NSGA-II generations of the finalization searches (default ${DEFAULT-VALUE}).")
  int paretoGenerations;

  @Option(names = "--codebook-epochs", defaultValue = "2", paramLabel = "N",
      description = "Epochs of codebook tuning by distillation after the bit or weight-sharing search, on all "
          + "calibration inputs; 0: none (default ${DEFAULT-VALUE}).")
  int codebookEpochs;

  @Option(names = "--out", required = true, paramLabel = "M.evoc")
  Path out;

  @Option(names = "--report", required = true, paramLabel = "R.json")
  Path report;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  /** What a run outside the command line (the server's) is told, and asked whether to stop. */
  public interface Listener {
    /** "sparsifying", then "finalizing". */
    void phase(String phase);

    /** Every commit of the search, and every distillation. */
    void trace(TraceEntry entry);

    /** Every generation of the search's evolutions. */
    void generation(Generation generation);

    boolean cancelled();

    /**
     * Who scores the search's populations; null: the job's own scorer, in process.
     *
     * @param batch the scorer's samples, as the model takes them
     */
    default CandidateScoring scoring(CandidateScorer local, OnnxModel teacher, ParameterTable student,
        HostTensor batch) {
      return null;
    }

    /** Who scores the finalizer's student points; null: the job's own scorer, in process. */
    default StudentScoring studentScoring(CandidateScorer local, OnnxModel teacher, ParameterTable student,
        HostTensor batch) {
      return null;
    }

    /** Sets where the search resumes from and where its checkpoints go; by default neither. */
    default Sparsifier prepare(Sparsifier search) {
      return search;
    }
  }

  /**
   * The command as `evoc compress ARGS` would run it, flags checked the same way.
   *
   * @throws IllegalArgumentException naming the flag or value that is wrong
   */
  public static CompressCommand parse(List<String> args) {
    CompressCommand c = new CompressCommand();
    try {
      // No @file expansion: these arguments come from a client's settings, the files from the server.
      new CommandLine(c).setExpandAtFiles(false).parseArgs(args.toArray(String[]::new));
    } catch (CommandLine.ParameterException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
    c.plan();
    return c;
  }

  /**
   * What a job would fail on first, checked in a moment: the model read and compiled for the
   * executor, and the first few samples of each data set loaded and fitted to its input.
   */
  public void checkInputs(int samples) {
    OnnxModel teacher = OnnxModel.read(search.model);
    try (GraphExecutor executor = GraphExecutor.create(teacher, ParameterTable.of(teacher), Devices.parse("cpu"))) {
      PreparedData.load(teacher, search.calib, samples, search.preprocessing.parse());
      if (search.test != null) {
        PreparedData.load(teacher, search.test, samples, search.preprocessing.parse());
      }
    }
  }

  /** The flags turned into settings, each checked; nothing read from disk yet. */
  private record Plan(Pipeline pipeline, FinalizeSettings finalizeSettings, SearchSettings settings) {}

  private Plan plan() {
    Pipeline pipeline = Pipeline.parse(method);
    if (judgeSamples < 1) {
      throw new IllegalArgumentException("--judge-samples must be at least 1, got " + judgeSamples);
    }
    if (pipeline.sparsifier() == null && (search.sparsity != null || search.layerSparsity != null)) {
      throw new IllegalArgumentException("--method " + method + " keeps every weight: drop --sparsity/--layer-sparsity"
          + " or sparsify first (de+weight-sharing)");
    }
    if (pipeline.sparsifier() != null && search.sparsity == null && search.layerSparsity == null) {
      search.sparsity = DEFAULT_SPARSITY;
    }
    FinalizeSettings finalizeSettings = new FinalizeSettings(pipeline.quantization(),
        maxAccuracyDrop != null ? maxAccuracyDrop : maxDivergence == null ? DEFAULT_ACCURACY_DROP : Double.NaN,
        maxDivergence != null ? maxDivergence : Double.NaN, paretoPopulation, paretoGenerations, codebookEpochs,
        search.seed);
    SearchSettings settings = pipeline.sparsifier() == null ? null : search.settings(pipeline.sparsifier());
    if (search.timeBudget != null) {
      search.timeBudget(); // checked here too: dense weight sharing has no search settings, only the budget
    }
    return new Plan(pipeline, finalizeSettings, settings);
  }

  /** A --method value taken apart. */
  record Pipeline(Method sparsifier, Quantization quantization) {
    static Pipeline parse(String text) {
      String[] parts = text.split("\\+", -1);
      Method sparsifier = null;
      String rest = text;
      if (parts[0].equals("de") || parts[0].equals("magnitude")) {
        sparsifier = SparsifyCommand.parseMethod(parts[0]);
        rest = parts.length == 1 ? null : text.substring(parts[0].length() + 1);
      }
      Quantization q = rest == null ? Quantization.LOSSLESS : switch (rest) {
        case "bits" -> Quantization.BITS;
        case "weight-sharing" -> Quantization.WEIGHT_SHARING;
        default -> null;
      };
      if (q == null || (sparsifier == null && q != Quantization.WEIGHT_SHARING)) {
        throw new IllegalArgumentException("--method '" + text + "': expected de, magnitude, weight-sharing, "
            + "de+bits, de+weight-sharing, magnitude+bits or magnitude+weight-sharing");
      }
      return new Pipeline(sparsifier, q);
    }
  }

  @Override
  public Integer call() throws IOException {
    plan(); // the flags first: their errors name no file
    OutputFiles.check(OutputFiles.named("--out", out, "--report", report), search.inputs());
    run(spec.commandLine().getOut(), spec.commandLine().getErr(), null);
    return 0;
  }

  /**
   * Runs the pipeline: writes the container and the report, prints the result table on {@code table}
   * and messages on {@code err}.
   *
   * @param listener the server's; null on the command line (Ctrl-C stops the search there)
   */
  public void run(PrintWriter table, PrintWriter err, Listener listener) throws IOException {
    Plan plan = plan();
    Pipeline pipeline = plan.pipeline();
    FinalizeSettings finalizeSettings = plan.finalizeSettings();
    SearchSettings settings = plan.settings();
    byte[] sourceBytes = readSource(search.model);
    long started = System.nanoTime();
    SparsifyResult sparsified = null;
    Finalizer.Result finalized;
    List<Layer> layers;
    SparsifyJob job = new SparsifyJob(search, listener == null ? null : listener::cancelled);
    try (job) {
      layers = job.scorer.layers();
      if (settings != null) {
        phase(listener, "sparsifying");
        sparsified = job.sparsify(settings, err, listener);
      }
      phase(listener, "finalizing");
      err.printf("compress: finalizing (%s)...%n", pipeline.quantization().name().toLowerCase(java.util.Locale.ROOT).replace('_', '-'));
      err.flush();
      // The budget counts from the search's start, also where this run resumed it (a finalizer's).
      long since = sparsified == null ? started
          : Math.min(started, System.nanoTime() - (long) (sparsified.seconds() * 1e9));
      long deadline = search.timeBudget() == null ? Long.MAX_VALUE : since + search.timeBudget().toNanos();
      try (BudgetJudge judge = job.budgetJudge(judgeSamples)) {
        finalized = new Finalizer(job.scorer, job.student, job.studentScoring(listener), judge,
            job.calibrationInputs(), finalizeSettings,
            () -> job.cancelled() || System.nanoTime() > deadline).run();
      }
    }
    FrontPoint chosen = finalized.front().get(finalized.chosen());
    Container container = ModelPacking.pack(job.teacher, sha256(sourceBytes), finalized.coded(),
        recordedSettings(), ParetoPoint.newBuilder().setBytes(chosen.bytes()).setDivergence(chosen.divergence())
            .setAgreement(chosen.agreement()).setAccuracyDrop(chosen.accuracyDrop())
            .addAllQuantization(chosen.layers()).build());
    ContainerFile.write(container, out);
    // The decoder's view: what a user deploys is what gets tested.
    OnnxModel decoded = ModelPacking.rebuild(ContainerFile.read(out), out.toString());
    List<FrontPoint> front = new ArrayList<>(finalized.front());
    TestComparison test = null;
    if (job.testData != null) {
      TestComparison.Reference reference = TestComparison.Reference.of(job.teacher, job.testData, 1000);
      for (int i = 0; i < front.size(); i++) {
        OnnxModel m = i == finalized.chosen() ? decoded : withTensors(job, finalized.variants().get(i));
        TestComparison t = TestComparison.run(reference, m);
        front.set(i, front.get(i).withTestAccuracy(t.studentAccuracy()));
        test = i == finalized.chosen() ? t : test;
      }
    }
    ContainerSummary summary = ContainerSummary.of(container);
    long parameters = job.student.parameterCount();
    Map<String, Object> r = new LinkedHashMap<>();
    Map<String, Object> s = new LinkedHashMap<>();
    if (settings != null) {
      s.putAll(search.describe(settings, method, job.calibration.data().size()));
    } else {
      s.put("model", search.model.toString());
      s.put("calib", search.calib);
      s.put("calib_samples", job.calibration.data().size());
      s.put("seed", search.seed);
    }
    s.put("method", method);
    s.put("max_accuracy_drop", finalizeSettings.maxAccuracyDrop());
    s.put("max_divergence", finalizeSettings.maxDivergence());
    s.put("judge_samples", Math.min(judgeSamples, job.calibration.data().size()));
    s.put("pareto_population", paretoPopulation);
    s.put("pareto_generations", paretoGenerations);
    s.put("codebook_epochs", codebookEpochs);
    r.put("settings", s);
    if (sparsified != null) {
      r.put("sparsify", SparsifyCommand.report(layers, sparsified));
    }
    r.put("front", front.stream().map(CompressCommand::describe).toList());
    r.put("chosen", finalized.chosen());
    r.put("within_budget", finalized.withinBudget());
    r.put("layers", layerTable(finalized.tensors(), chosen.layers()));
    r.put("grids", finalized.grids().stream().map(t -> Map.<String, Object>of("parameter", t.name(), "size",
        t.index().length, "quantization", GridParameters.label(t))).toList());
    r.put("bytes", summary.bytesByPart());
    r.put("parameters", parameters);
    r.put("parameter_ratio", Json.hundredths(summary.parameterRatio(parameters, true)));
    r.put("parameter_ratio_without_codebooks", Json.hundredths(summary.parameterRatio(parameters, false)));
    r.put("file_ratio", Json.hundredths((double) sourceBytes.length / summary.file()));
    if (test != null) {
      r.put("test", test.describe(search.test));
    }
    r.put("seconds", Json.hundredths((System.nanoTime() - started) / 1e9));
    Json.writeAtomically(report, r);
    printTable(table, front, finalized.chosen(), finalized.grids(), summary, parameters, sourceBytes.length, test);
    if (!finalized.withinBudget()) {
      err.println("compress: no point of the front met the budget; kept the one with the lowest divergence");
    }
    err.flush();
  }

  /**
   * The search alone, as {@link #run} begins it, its last checkpoint handed to the listener: the
   * server's coordinator runs this, then a finalizer runs {@link #run} resuming from that checkpoint
   * (done at once), so that the two halves make the command line's bytes. Nothing to do when the
   * method sparsifies nothing (weight sharing on the dense model).
   */
  public void sparsify(PrintWriter err, Listener listener) {
    SearchSettings settings = plan().settings();
    if (settings == null) {
      return;
    }
    try (SparsifyJob job = new SparsifyJob(search, listener::cancelled)) {
      phase(listener, "sparsifying");
      job.sparsify(settings, err, listener);
    }
  }

  private static void phase(Listener listener, String phase) {
    if (listener != null) {
      listener.phase(phase);
    }
  }

  private Map<String, String> recordedSettings() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("method", method);
    m.put("seed", Long.toString(search.seed));
    if (search.sparsity != null) {
      m.put("sparsity", search.sparsity.toString());
    }
    if (search.layerSparsity != null) {
      m.put("layer-sparsity", search.layerSparsity);
    }
    m.put("repair", search.repair);
    m.put("codebook-epochs", Integer.toString(codebookEpochs));
    if (maxDivergence != null) {
      m.put("max-divergence", maxDivergence.toString());
    } else {
      m.put("max-accuracy-drop", String.valueOf(maxAccuracyDrop != null ? maxAccuracyDrop : DEFAULT_ACCURACY_DROP));
      m.put("judge-samples", Integer.toString(judgeSamples));
    }
    return m;
  }

  private static OnnxModel withTensors(SparsifyJob job, List<QuantizedTensor> tensors) {
    Map<String, float[]> weights = job.student.snapshot();
    for (QuantizedTensor t : tensors) {
      weights.put(t.name(), t.values());
    }
    return job.teacher.withWeights(weights);
  }

  private static Map<String, Object> describe(FrontPoint p) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("bytes", p.bytes());
    m.put("divergence", p.divergence());
    m.put("agreement", p.agreement());
    m.put("calibration_accuracy_drop", p.accuracyDrop());
    m.put("test_accuracy", Double.isNaN(p.testAccuracy()) ? null : p.testAccuracy());
    m.put("quantization", p.layers());
    m.put("codebooks_tuned", p.tuned());
    return m;
  }

  private static List<Map<String, Object>> layerTable(List<QuantizedTensor> tensors, List<String> labels) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (int i = 0; i < tensors.size(); i++) {
      QuantizedTensor t = tensors.get(i);
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("weight", t.name());
      m.put("size", t.index().length);
      m.put("sparsity", 1 - (double) t.survivors() / t.index().length);
      m.put("quantization", labels.get(i));
      m.put("levels", t.codebook().length);
      out.add(m);
    }
    return out;
  }

  private static void printTable(PrintWriter out, List<FrontPoint> front, int chosen, List<QuantizedTensor> grids,
      ContainerSummary summary, long parameters, long onnxBytes, TestComparison test) {
    out.println("   bytes  divergence  agreement  calib drop  test acc  quantization");
    for (int i = 0; i < front.size(); i++) {
      FrontPoint p = front.get(i);
      out.printf("%s%7d  %10.5f  %9.4f  %10.2f  %8s  %s%s%n", i == chosen ? "*" : " ", p.bytes(), p.divergence(),
          p.agreement(), p.accuracyDrop(), Double.isNaN(p.testAccuracy()) ? "-" : String.format("%.2f%%", 100 * p.testAccuracy()),
          String.join(" ", p.layers()), p.tuned() ? " (codebooks tuned)" : "");
    }
    if (!grids.isEmpty()) {
      out.println("on grids: " + grids.stream().map(t -> t.name() + " " + GridParameters.label(t))
          .collect(java.util.stream.Collectors.joining(", ")));
    }
    out.printf("container %d bytes (positions %d, indices %d, codebooks %d, graph %d, headers %d)%n", summary.file(),
        summary.positions(), summary.indices(), summary.codebooks(), summary.graph(), summary.headers());
    out.printf("parameter ratio %.1fx (%.1fx without codebooks), file ratio %.1fx%s%n",
        summary.parameterRatio(parameters, true), summary.parameterRatio(parameters, false),
        (double) onnxBytes / summary.file(), test == null ? "" : test.accuracySummary());
    out.flush();
  }

  private static byte[] readSource(Path model) throws IOException {
    try {
      return Files.readAllBytes(model);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IllegalArgumentException(model + ": no such file");
    }
  }

  static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
