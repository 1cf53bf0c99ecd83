package io.evoc.coordinator.server.jobs;

import io.evoc.coordinator.cli.CompressCommand;
import io.evoc.coordinator.search.Generation;
import io.evoc.coordinator.search.Sparsifier;
import io.evoc.coordinator.search.TraceEntry;
import io.evoc.coordinator.server.BlobStore;
import io.evoc.coordinator.server.cluster.ClusterScoring;
import io.evoc.coordinator.server.cluster.WorkQueue;
import io.evoc.evaluator.cluster.TensorMessages;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.scoring.CandidateScorer;
import io.evoc.evaluator.scoring.CandidateScoring;
import io.evoc.evaluator.scoring.StudentScoring;
import io.evoc.protocol.cluster.ScoringContext;
import io.evoc.protocol.jobs.Blob;
import io.evoc.protocol.jobs.JobEvent;
import io.evoc.protocol.jobs.JobSpec;
import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.search.SearchCheckpoint;
import io.evoc.protocol.search.TraceRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorRef;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a job's run tells the job book (phases, commits, generations) and asks it (cancelled?),
 * from the worker thread; where its populations are scored: the cluster's work queue, with the
 * model, scoring batch and students published as blobs for the evaluators; and where its search
 * checkpoints go, and which one it resumes from.
 */
final class WorkerListener implements CompressCommand.Listener {
  private static final Logger LOG = LoggerFactory.getLogger(WorkerListener.class);
  private final String id;
  private final JobSpec spec;
  private final ActorRef<JobManager.Command> book;
  private final AtomicBoolean cancelled;
  private final WorkQueue queue;
  private final String blobUrl;
  private final BlobStore blobs;
  /** The checkpoint this run resumes from; null: from the start. */
  private final Blob resume;
  /** Trace entries already in the job's history: each checkpoint's event carries only the new ones. */
  private int traced;
  /**
   * What this run published for the evaluators and may delete when it is superseded or the job
   * ends: the scoring batch and the latest student. Never a blob the job's spec names (the first
   * student is the teacher itself, whose bytes may be the upload's).
   */
  private final java.util.Set<String> published = new java.util.LinkedHashSet<>();
  private String student;
  /** The search's and the finalizer's scoring, made at the first call. */
  private ClusterScoring scoring;

  WorkerListener(String id, JobSpec spec, ActorRef<JobManager.Command> book, AtomicBoolean cancelled, WorkQueue queue,
      String blobUrl, BlobStore blobs, Blob resume) {
    this.id = id;
    this.spec = spec;
    this.book = book;
    this.cancelled = cancelled;
    this.queue = queue;
    this.blobUrl = blobUrl;
    this.blobs = blobs;
    this.resume = resume;
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
   * continues it. An unreadable checkpoint (damaged, lost) is a warning, and the search starts over.
   */
  @Override
  public Sparsifier prepare(Sparsifier search) {
    search.checkpointTo(id, this::keep);
    if (resume == null) {
      return search;
    }
    try {
      SearchCheckpoint checkpoint = SearchCheckpoint.parseFrom(blobs.read(resume));
      traced = checkpoint.getTraceCount();
      return search.resumeFrom(checkpoint);
    } catch (IOException e) {
      LOG.warn("job {}: cannot resume from its checkpoint, starting the search over: {}", id, e.getMessage());
      return search;
    }
  }

  private void keep(SearchCheckpoint checkpoint) {
    List<TraceRecord> fresh = checkpoint.getTraceList().subList(traced, checkpoint.getTraceCount());
    traced = checkpoint.getTraceCount();
    book.tell(new JobManager.Checkpoint(id, JobEvent.Checkpointed.newBuilder()
        .setCheckpoint(keep(checkpoint.toByteArray(), id + "-checkpoint")).addAllTrace(fresh).build()));
  }

  @Override
  public boolean cancelled() {
    return cancelled.get();
  }

  @Override
  public CandidateScoring scoring(CandidateScorer local, OnnxModel teacher, ParameterTable student, HostTensor batch) {
    return cluster(local, teacher, student, batch);
  }

  /** The finalizer's points go to the evaluators too, on the same batch and published student. */
  @Override
  public StudentScoring studentScoring(CandidateScorer local, OnnxModel teacher, ParameterTable student,
      HostTensor batch) {
    return cluster(local, teacher, student, batch);
  }

  private ClusterScoring cluster(CandidateScorer local, OnnxModel teacher, ParameterTable student, HostTensor batch) {
    if (scoring == null) {
      ScoringContext context = ScoringContext.newBuilder().setJobId(id).setBlobUrl(blobUrl)
          .setModelSha256(spec.getModel().getSha256())
          .setBatchSha256(publish(TensorMessages.encode(batch).toByteArray(), id + "-batch"))
          .setMetric(local.metric().name().toLowerCase(Locale.ROOT)).build();
      scoring = new ClusterScoring(id, queue, local, teacher, student, context, this::publishStudent, cancelled::get);
    }
    return scoring;
  }

  /** A new student for the evaluators; the one it replaces is no longer fetched by anyone. */
  private String publishStudent(byte[] bytes) {
    String sha = publish(bytes, id + "-student");
    if (student != null && !student.equals(sha)) {
      drop(student);
    }
    student = sha;
    return sha;
  }

  /** Deletes what this run published for the evaluators: called once the job has ended. */
  void cleanUp() {
    new java.util.ArrayList<>(published).forEach(this::drop);
  }

  private void drop(String sha) {
    published.remove(sha);
    if (spec.getModel().getSha256().equals(sha) || spec.getCalib().getSha256().equals(sha)
        || spec.getCalibLabels().getSha256().equals(sha) || spec.getTest().getSha256().equals(sha)
        || spec.getTestLabels().getSha256().equals(sha)) {
      return;
    }
    try {
      blobs.delete(Blob.newBuilder().setSha256(sha).build());
    } catch (IOException e) {
      LOG.warn("job {}: cannot delete blob {}: {}", id, sha, e.getMessage());
    }
  }

  private String publish(byte[] bytes, String name) {
    String sha = keep(bytes, name).getSha256();
    published.add(sha);
    return sha;
  }

  private Blob keep(byte[] bytes, String name) {
    try {
      return blobs.putBytes(bytes, name);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot keep " + name, e);
    }
  }
}
