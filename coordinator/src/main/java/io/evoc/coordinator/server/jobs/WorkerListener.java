package io.evoc.coordinator.server.jobs;

import io.evoc.coordinator.cli.CompressCommand;
import io.evoc.coordinator.search.Generation;
import io.evoc.coordinator.search.Sparsifier;
import io.evoc.coordinator.search.TraceEntry;
import io.evoc.coordinator.server.BlobStore;
import io.evoc.coordinator.server.cluster.WorkQueue;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.scoring.CandidateScorer;
import io.evoc.evaluator.scoring.CandidateScoring;
import io.evoc.protocol.jobs.Blob;
import io.evoc.protocol.jobs.JobEvent;
import io.evoc.protocol.jobs.JobSpec;
import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.search.SearchCheckpoint;
import io.evoc.protocol.search.TraceRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a job's search tells the job book (commits, generations) and asks it (cancelled?), from
 * the worker thread; where its populations are scored: the cluster's evaluators, through the
 * coordinator's work queue; and where its search checkpoints go, and which one it resumes from.
 */
final class WorkerListener implements CompressCommand.Listener {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerListener.class);
  private final String id;
  private final ActorRef<JobManager.Command> book;
  private final AtomicBoolean cancelled;
  private final BlobStore blobs;
  /** The checkpoint this run resumes from; null: from the start. */
  private final Blob resume;
  /** The latest checkpoint taken or resumed from; null: none. */
  private Blob latest;
  /** Trace entries already in the job's history: each checkpoint's event carries only the new ones. */
  private int traced;
  /** The search's populations, scored by the evaluators through the coordinator's queue. */
  private final JobScoring scoring;

  WorkerListener(String id, JobSpec spec, ActorRef<JobManager.Command> book, AtomicBoolean cancelled, WorkQueue queue,
      String blobUrl, BlobStore blobs, Blob resume) {
    this.id = id;
    this.book = book;
    this.cancelled = cancelled;
    this.blobs = blobs;
    this.resume = resume;
    this.latest = resume;
    this.scoring = new JobScoring(id, spec, queue, blobUrl, blobs, cancelled::get);
  }

  @Override
  public void phase(String phase) {
    book.tell(new JobManager.Phase(id, phase));
  }

  @Override
  public void trace(TraceEntry entry) {
    book.tell(new JobManager.Progress(id, entry));
  }

  @Override
  public void generation(Generation generation) {
    book.tell(new JobManager.GenerationDone(id, generation));
  }

  /**
   * Checkpoints go into the blob store and the job's history; a run with one to resume from
   * continues it. An unreadable checkpoint (damaged, lost) or one taken under other settings (an
   * evoc version whose settings differ) is a warning, and the search starts over: the job's
   * history says so, so that its view no longer names the old checkpoint's cycle.
   */
  @Override
  public Sparsifier prepare(Sparsifier search) {
    search.checkpointTo(id, this::keep);
    if (resume == null) {
      return search;
    }
    try {
      SearchCheckpoint checkpoint = SearchCheckpoint.parseFrom(blobs.read(resume));
      Sparsifier resumed = search.resumeFrom(checkpoint);
      traced = checkpoint.getTraceCount();
      return resumed;
    } catch (IOException | IllegalArgumentException e) {
      String reason = "cannot resume from the checkpoint: " + JobManager.oneLine(e);
      LOG.warn("job {}: {}; starting the search over", id, reason);
      latest = null;
      book.tell(new JobManager.StartedOver(id, reason));
      return search;
    }
  }

  private void keep(SearchCheckpoint checkpoint) {
    List<TraceRecord> fresh = checkpoint.getTraceList().subList(traced, checkpoint.getTraceCount());
    traced = checkpoint.getTraceCount();
    try { // kept while the job book's history names it
      latest = blobs.putTransient(checkpoint.toByteArray(), id + "-checkpoint");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot keep " + id + "-checkpoint", e);
    }
    book.tell(new JobManager.Checkpoint(id, JobEvent.Checkpointed.newBuilder().setCheckpoint(latest)
        .addAllTrace(fresh).build()));
  }

  /**
   * The search's latest checkpoint, the one it resumed from if it took none: at its end, what the
   * finalizer goes on from.
   */
  Blob latestCheckpoint() {
    return latest;
  }

  @Override
  public boolean cancelled() {
    return cancelled.get();
  }

  @Override
  public CandidateScoring scoring(CandidateScorer local, OnnxModel teacher, ParameterTable student, HostTensor batch) {
    return scoring.scoring(local, teacher, student, batch);
  }

  /** Deletes what this run published for the evaluators: called once the search has ended. */
  void cleanUp() {
    scoring.cleanUp();
  }
}
