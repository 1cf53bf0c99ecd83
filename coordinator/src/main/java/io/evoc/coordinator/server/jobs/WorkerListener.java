package io.evoc.coordinator.server.jobs;

import io.evoc.coordinator.cli.CompressCommand;
import io.evoc.coordinator.search.Generation;
import io.evoc.coordinator.search.TraceEntry;
import io.evoc.coordinator.server.BlobStore;
import io.evoc.coordinator.server.cluster.ClusterScoring;
import io.evoc.coordinator.server.cluster.WorkQueue;
import io.evoc.evaluator.cluster.TensorMessages;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.scoring.CandidateScorer;
import io.evoc.evaluator.scoring.CandidateScoring;
import io.evoc.protocol.cluster.ScoringContext;
import io.evoc.protocol.jobs.JobSpec;
import io.evoc.protocol.model.OnnxModel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * What a job's run tells the job book (phases, commits, generations) and asks it (cancelled?),
 * from the worker thread; and where its populations are scored: the cluster's work queue, with
 * the model, scoring batch and students published as blobs for the evaluators.
 */
final class WorkerListener implements CompressCommand.Listener {
  private final String id;
  private final JobSpec spec;
  private final ActorRef<JobManager.Command> book;
  private final AtomicBoolean cancelled;
  private final WorkQueue queue;
  private final String blobUrl;
  private final BlobStore blobs;

  WorkerListener(String id, JobSpec spec, ActorRef<JobManager.Command> book, AtomicBoolean cancelled, WorkQueue queue,
      String blobUrl, BlobStore blobs) {
    this.id = id;
    this.spec = spec;
    this.book = book;
    this.cancelled = cancelled;
    this.queue = queue;
    this.blobUrl = blobUrl;
    this.blobs = blobs;
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

  @Override
  public boolean cancelled() {
    return cancelled.get();
  }

  @Override
  public CandidateScoring scoring(CandidateScorer local, OnnxModel teacher, ParameterTable student, HostTensor batch) {
    ScoringContext context = ScoringContext.newBuilder().setJobId(id).setBlobUrl(blobUrl)
        .setModelSha256(spec.getModel().getSha256())
        .setBatchSha256(publish(TensorMessages.encode(batch).toByteArray(), id + "-batch"))
        .setMetric(local.metric().name().toLowerCase(Locale.ROOT)).build();
    return new ClusterScoring(id, queue, local, teacher, student, context, bytes -> publish(bytes, id + "-student"),
        cancelled::get);
  }

  private String publish(byte[] bytes, String name) {
    try {
      return blobs.putBytes(bytes, name).getSha256();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot keep " + name, e);
    }
  }
}
