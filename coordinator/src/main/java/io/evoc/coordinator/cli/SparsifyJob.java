package io.evoc.coordinator.cli;

import io.evoc.coordinator.finalization.BudgetJudge;
import io.evoc.coordinator.search.SearchSettings;
import io.evoc.coordinator.search.Sparsifier;
import io.evoc.coordinator.search.SparsifyResult;
import io.evoc.evaluator.engine.Devices;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.scoring.CandidateScorer;
import io.evoc.evaluator.scoring.CandidateScoring;
import io.evoc.evaluator.scoring.StudentScoring;
import io.evoc.evaluator.scoring.Metric;
import io.evoc.protocol.model.OnnxModel;
import java.io.PrintWriter;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * What {@code sparsify} and {@code compress} share: the teacher, the data, the student table and
 * the scorer over the first search samples, and Ctrl-C (or, in the server, a cancellation), which
 * stops the work at the next generation so that what was found is still written.
 */
final class SparsifyJob implements AutoCloseable {
  final OnnxModel teacher;
  final PreparedData calibration;
  final PreparedData testData;
  final ParameterTable student;
  final Metric metric;
  final CandidateScorer scorer;
  /** Where directed evolution's prior is estimated, made for the first search that needs one over more samples. */
  private CandidateScorer prior;
  private final int priorSamples;
  private final HostTensor all;
  private final HostTensor searchBatch;
  private final AtomicBoolean interrupted = new AtomicBoolean();
  private final BooleanSupplier cancelled;
  /** Ctrl-C on the command line; null in the server, where a job is cancelled through its API. */
  private final Thread hook;

  SparsifyJob(SearchOptions o) {
    this(o, null);
  }

  /** @param cancelled the server's cancellation; null: Ctrl-C */
  SparsifyJob(SearchOptions o, BooleanSupplier cancelled) {
    teacher = OnnxModel.read(o.model);
    calibration = PreparedData.load(teacher, o.calib, o.calibLimit, o.preprocessing.parse());
    testData = o.test == null ? null : PreparedData.load(teacher, o.test, o.testLimit, o.preprocessing.parse());
    student = ParameterTable.of(teacher);
    metric = Metric.parse(o.divergence, teacher);
    all = calibration.batch();
    searchBatch = all.head(o.searchSamples);
    scorer = new CandidateScorer(teacher, student, Devices.parse(o.device), searchBatch, metric);
    priorSamples = o.priorSamples((int) all.shape()[0]);
    this.cancelled = cancelled != null ? cancelled : interrupted::get;
    hook = cancelled != null ? null : new Thread(() -> interrupted.set(true));
    if (hook != null) {
      Runtime.getRuntime().addShutdownHook(hook);
    }
  }

  boolean cancelled() {
    return cancelled.getAsBoolean();
  }

  /** The scorer over the first prior samples, for directed evolution; the scorer itself when they are no more. */
  private CandidateScorer prior(SearchSettings settings) {
    if (settings.method() != SearchSettings.Method.DE || priorSamples <= scorer.samples()) {
      return scorer;
    }
    if (prior == null) {
      prior = new CandidateScorer(teacher, student, scorer.device(), all.head(priorSamples), metric);
    }
    return prior;
  }

  /** Every calibration input, as distillation trains on them. */
  HostTensor calibrationInputs() {
    return all;
  }

  /** What judges the accuracy budget: the first {@code samples} calibration inputs, with their labels if any. */
  BudgetJudge budgetJudge(int samples) {
    HostTensor inputs = all.head(samples);
    int n = (int) inputs.shape()[0];
    return new BudgetJudge(teacher, student, scorer.device(), inputs, metric,
        calibration.data().hasLabels() ? java.util.Arrays.copyOf(calibration.data().labels(), n) : null);
  }

  /**
   * Runs the search into {@link #student}, showing progress on {@code err}.
   *
   * @param listener the server's (told of commits and generations, choosing who scores, where the
   *     search resumes and where its checkpoints go); null on the command line
   */
  SparsifyResult sparsify(SearchSettings settings, PrintWriter err, CompressCommand.Listener listener) {
    double goal = Double.isNaN(settings.sparsity()) ? 1.0 : settings.sparsity();
    try (SearchProgress progress = new SearchProgress(err, goal, hook != null && System.console() != null,
        scorer.layers())) {
      if (listener == null) {
        return new Sparsifier(scorer, all, student, settings, cancelled, progress).priorFrom(prior(settings)).run();
      }
      Sparsifier s = new Sparsifier(scorer, all, student, settings, cancelled, progress.andThen(listener::trace))
          .priorFrom(prior(settings)).onGeneration(listener::generation);
      CandidateScoring scoring = listener.scoring(scorer, teacher, student, searchBatch);
      return listener.prepare(scoring == null ? s : s.scoreWith(scoring)).run();
    }
  }

  /** Who scores the finalizer's points: the listener's choice (the cluster's evaluators), else this job's scorer. */
  StudentScoring studentScoring(CompressCommand.Listener listener) {
    StudentScoring chosen = listener == null ? null : listener.studentScoring(scorer, teacher, student, searchBatch);
    return chosen != null ? chosen : StudentScoring.local(scorer, student);
  }

  @Override
  public void close() {
    if (prior != null) {
      prior.close();
    }
    scorer.close();
    if (hook == null) {
      return;
    }
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // already exiting: the hook ran
    }
  }
}
