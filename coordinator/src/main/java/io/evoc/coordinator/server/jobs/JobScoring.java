package io.evoc.coordinator.server.jobs;

import io.evoc.coordinator.server.BlobStore;
import io.evoc.coordinator.server.cluster.ClusterScoring;
import io.evoc.coordinator.server.cluster.WorkQueue;
import io.evoc.evaluator.cluster.TensorMessages;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.scoring.CandidateScorer;
import io.evoc.protocol.cluster.ScoringContext;
import io.evoc.protocol.jobs.Blob;
import io.evoc.protocol.jobs.JobSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;
import java.util.function.BooleanSupplier;
import io.evoc.protocol.model.OnnxModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run's scoring through the cluster's evaluators, from the node it runs on (the coordinator's
 * search, a finalizer's points): units go through that node's work queue, and the scoring batch
 * and each new student are published in its scratch blob store for the evaluators to fetch from
 * its HTTP address. The search's populations and the finalizer's points share one {@link ClusterScoring}.
 */
public final class JobScoring {
  private static final Logger LOG = LoggerFactory.getLogger(JobScoring.class);
  private final String id;
  private final JobSpec spec;
  private final WorkQueue queue;
  private final String blobUrl;
  private final BlobStore blobs;
  private final BooleanSupplier cancelled;
  /** What this run published (in the scratch store) and deletes when it is superseded or the run ends. */
  private final Set<String> published = new LinkedHashSet<>();
  private String student;
  private ClusterScoring scoring;

  /**
   * @param blobUrl this node's HTTP address, from which evaluators fetch what is published
   * @param cancelled stops waiting for evaluators
   */
  public JobScoring(String id, JobSpec spec, WorkQueue queue, String blobUrl, BlobStore blobs,
      BooleanSupplier cancelled) {
    this.id = id;
    this.spec = spec;
    this.queue = queue;
    this.blobUrl = blobUrl;
    this.blobs = blobs;
    this.cancelled = cancelled;
  }

  /** The run's cluster scoring, made at the first call (publishing the batch). */
  public ClusterScoring scoring(CandidateScorer local, OnnxModel teacher, ParameterTable student, HostTensor batch) {
    if (scoring == null) {
      ScoringContext context = ScoringContext.newBuilder().setJobId(id).setBlobUrl(blobUrl)
          .setModelSha256(spec.getModel().getSha256())
          .setBatchSha256(publish(TensorMessages.encode(batch).toByteArray(), id + "-batch"))
          .setMetric(local.metric().name().toLowerCase(Locale.ROOT)).build();
      scoring = new ClusterScoring(id, queue, local, teacher, student, context, this::publishStudent, cancelled);
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

  /** Deletes what this run published: called once it has ended. */
  public void cleanUp() {
    new ArrayList<>(published).forEach(this::drop);
  }

  private void drop(String sha) {
    published.remove(sha);
    try {
      blobs.scratch().delete(Blob.newBuilder().setSha256(sha).build());
    } catch (IOException e) {
      LOG.warn("job {}: cannot delete blob {}: {}", id, sha, e.getMessage());
    }
  }

  private String publish(byte[] bytes, String name) {
    try {
      String sha = blobs.scratch().putBytes(bytes, name).getSha256();
      published.add(sha);
      return sha;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot keep " + name, e);
    }
  }
}
