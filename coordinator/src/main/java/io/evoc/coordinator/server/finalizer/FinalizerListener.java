package io.evoc.coordinator.server.finalizer;

import io.evoc.coordinator.cli.CompressCommand;
import io.evoc.coordinator.search.Generation;
import io.evoc.coordinator.search.Sparsifier;
import io.evoc.coordinator.search.TraceEntry;
import io.evoc.coordinator.server.jobs.JobScoring;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.scoring.CandidateScorer;
import io.evoc.evaluator.scoring.CandidateScoring;
import io.evoc.evaluator.scoring.StudentScoring;
import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.search.SearchCheckpoint;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A finalizer's run of the command: its search resumes from the coordinator's last checkpoint
 * (stage done, so it returns at once with the searched student), and its points are scored by
 * the evaluators through the finalizer's own work queue. The coordinator already knows the job is
 * finalizing: phases, commits and generations (none come) are not passed on.
 */
final class FinalizerListener implements CompressCommand.Listener {
  private final SearchCheckpoint sparsified;
  private final JobScoring scoring;
  private final AtomicBoolean cancelled;

  /** @param sparsified the search's last checkpoint; null when the job sparsifies nothing */
  FinalizerListener(SearchCheckpoint sparsified, JobScoring scoring, AtomicBoolean cancelled) {
    this.sparsified = sparsified;
    this.scoring = scoring;
    this.cancelled = cancelled;
  }

  @Override
  public void phase(String phase) {}

  @Override
  public void trace(TraceEntry entry) {}

  @Override
  public void generation(Generation generation) {}

  @Override
  public boolean cancelled() {
    return cancelled.get();
  }

  @Override
  public Sparsifier prepare(Sparsifier search) {
    if (sparsified == null) {
      throw new IllegalStateException("the job sparsifies, but the coordinator sent no checkpoint of its search");
    }
    return search.resumeFrom(sparsified);
  }

  @Override
  public CandidateScoring scoring(CandidateScorer local, OnnxModel teacher, ParameterTable student, HostTensor batch) {
    return scoring.scoring(local, teacher, student, batch);
  }

  @Override
  public StudentScoring studentScoring(CandidateScorer local, OnnxModel teacher, ParameterTable student,
      HostTensor batch) {
    return scoring.scoring(local, teacher, student, batch);
  }
}
