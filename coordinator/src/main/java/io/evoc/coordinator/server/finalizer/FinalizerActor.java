package io.evoc.coordinator.server.finalizer;

import io.evoc.coordinator.server.BlobStore;
import io.evoc.coordinator.server.ServerMetrics;
import io.evoc.coordinator.server.cluster.WorkQueue;
import io.evoc.coordinator.server.cluster.WorkQueueActor;
import io.evoc.coordinator.server.jobs.JobManager;
import io.evoc.coordinator.server.jobs.JobRunner;
import io.evoc.coordinator.server.jobs.JobScoring;
import io.evoc.evaluator.engine.Engines;
import io.evoc.protocol.cluster.FinalizeRequest;
import io.evoc.protocol.cluster.FinalizeResult;
import io.evoc.protocol.cluster.FinalizerMessage;
import io.evoc.protocol.jobs.Blob;
import io.evoc.protocol.jobs.JobEvent;
import io.evoc.protocol.jobs.JobSpec;
import io.evoc.protocol.search.SearchCheckpoint;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * A node's finalizer: takes jobs whose search is over from the coordinator, one at a time, and
 * runs the rest of the pipeline (bit search or weight sharing, codebook tuning, coding, the
 * decoder's check and the report) on a thread of its own, its points scored by the evaluators
 * through a work queue of its own. The job's files and the search's last checkpoint are fetched
 * from the coordinator over HTTP by SHA-256; the outputs stay in this node's blob store until the
 * coordinator has fetched them. A coordinator that asks again for a job this finalizer is running
 * or has just finished (a new coordinator, after a handover) gets that run's one answer.
 */
public final class FinalizerActor extends AbstractBehavior<Object> {
  public static final String ROLE = "finalizer";
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FinalizerActor.class);
  public static final ServiceKey<FinalizerMessage> KEY = ServiceKey.create(FinalizerMessage.class, "evoc-finalizer");
  /** Finished jobs whose outputs the coordinator has not released yet, kept to answer a repeated request. */
  private static final int RECENT = 8;

  /** What a finalizer needs of its node. */
  public record Settings(BlobStore blobs, Path workRoot, Duration unitTimeout, ServerMetrics metrics, String apiUrl,
      String token) {}

  /** The worker's end of a run: its result, and the outputs it added to the store. */
  private record Done(String jobId, FinalizeResult result, List<Blob> created) {}

  /** A run's answer, kept until its coordinator releases it. */
  private record Finished(FinalizeResult result, List<Blob> created) {}

  private final Settings settings;
  private final ActorRefResolver resolver;
  private final WorkQueue queue;
  private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "evoc-finalizer");
    t.setDaemon(true);
    return t;
  });
  private final Deque<FinalizeRequest> waiting = new ArrayDeque<>();
  /** The running job, and where its answer goes (a later request for it may change that). */
  private FinalizeRequest running;
  private AtomicBoolean cancelRunning = new AtomicBoolean();
  /** Whether what the running job adds to the store goes when it stops (cancelled, not superseded). */
  private boolean discardRunning;
  private final Map<String, Finished> recent = new LinkedHashMap<>();

  public static Behavior<Object> create(Settings settings) {
    return Behaviors.setup(ctx -> new FinalizerActor(ctx, settings));
  }

  private FinalizerActor(ActorContext<Object> context, Settings settings) {
    super(context);
    this.settings = settings;
    this.resolver = ActorRefResolver.get(context.getSystem());
    this.queue = new WorkQueue(settings.unitTimeout(), resolver::resolveActorRef);
    context.spawn(WorkQueueActor.create(queue, settings.metrics(), "finalizer"), "work-queue");
    context.getSystem().receptionist().tell(Receptionist.register(KEY, context.getSelf().narrow()));
  }

  @Override
  public Receive<Object> createReceive() {
    return newReceiveBuilder()
        .onMessage(FinalizerMessage.class, this::onMessage)
        .onMessage(Done.class, this::onDone)
        .onSignal(PostStop.class, stop -> {
          cancelRunning.set(true);
          worker.shutdownNow();
          return this;
        })
        .build();
  }

  private Behavior<Object> onMessage(FinalizerMessage m) {
    switch (m.getKindCase()) {
      case REQUEST -> request(m.getRequest());
      case CANCEL -> stop(m.getCancel(), true);
      case SUPERSEDE -> stop(m.getSupersede(), false);
      case RELEASE -> release(m.getRelease().getJobId(), m.getRelease().getFetched());
      default -> getContext().getLog().warn("ignoring an empty finalizer message");
    }
    return this;
  }

  /** The job is not wanted from this finalizer any more; {@code discard}: nor what it stored. */
  private void stop(String id, boolean discard) {
    waiting.removeIf(r -> r.getJobId().equals(id));
    if (running != null && running.getJobId().equals(id)) {
      cancelRunning.set(true);
      discardRunning = discard;
    }
    Finished done = recent.remove(id);
    if (done != null && discard) {
      // Answered, but the job was cancelled: what the run added to the store is nobody's.
      deleteAll(id, done.created());
    }
  }

  private void request(FinalizeRequest r) {
    String id = r.getJobId();
    Finished done = recent.get(id);
    if (done != null) {
      reply(r.getReplyTo(), done.result());
    } else if (running != null && running.getJobId().equals(id)) {
      running = r; // same job, same answer: it goes to the coordinator that asked last
    } else {
      waiting.removeIf(w -> w.getJobId().equals(id));
      waiting.addLast(r);
      startNext();
    }
  }

  /** The coordinator has the outputs, or will never want them: this node's copies go if they are only this node's. */
  private void release(String id, boolean delete) {
    Finished done = recent.remove(id);
    if (done != null && delete && done.result().hasSucceeded()) {
      deleteAll(id, JobRunner.outputs(done.result().getSucceeded()));
    }
  }

  private Behavior<Object> onDone(Done d) {
    FinalizeRequest r = running;
    running = null;
    if (cancelRunning.get()) {
      if (discardRunning) {
        deleteAll(d.jobId(), d.created());
      }
    } else {
      recent.put(d.jobId(), new Finished(d.result(), d.created()));
      if (recent.size() > RECENT) {
        // The oldest unreleased: its coordinator is gone, or fetched it and the release was lost.
        recent.remove(recent.keySet().iterator().next());
      }
      reply(r.getReplyTo(), d.result());
    }
    startNext();
    return this;
  }

  private void reply(String replyTo, FinalizeResult result) {
    resolver.<FinalizeResult>resolveActorRef(replyTo).tell(result);
  }

  private void startNext() {
    if (running != null || waiting.isEmpty()) {
      return;
    }
    running = waiting.pollFirst();
    cancelRunning = new AtomicBoolean();
    discardRunning = false;
    FinalizeRequest r = running;
    AtomicBoolean cancelled = cancelRunning;
    var self = getContext().getSelf();
    String node = Cluster.get(getContext().getSystem()).selfMember().address().toString();
    getContext().getLog().info("finalizing job {} for the coordinator at {}", r.getJobId(), r.getBlobUrl());
    worker.execute(() -> {
      FinalizeResult.Builder result = FinalizeResult.newBuilder().setJobId(r.getJobId()).setBlobUrl(settings.apiUrl())
          .setNode(node);
      List<Blob> created = new ArrayList<>();
      try {
        Engines.inferenceThread();
        JobEvent.Succeeded s = run(r, cancelled, created);
        result.setSucceeded(s);
      } catch (Exception | Error e) {
        result.setError(JobManager.oneLine(e));
      }
      self.tell(new Done(r.getJobId(), result.build(), created));
    });
  }

  /**
   * On the worker thread: the inputs fetched, the run, then what only the run needed deleted (the
   * inputs it fetched, what it published for the evaluators) before the outputs go into the store.
   */
  private JobEvent.Succeeded run(FinalizeRequest r, AtomicBoolean cancelled, List<Blob> created) throws IOException {
    JobSpec spec = r.getSpec();
    Path work = settings.workRoot().resolve(r.getJobId());
    List<Blob> fetched = new ArrayList<>();
    try {
      List<Blob> needed = new ArrayList<>(JobRunner.inputs(spec));
      if (r.hasSparsified()) {
        needed.add(r.getSparsified());
      }
      for (Blob b : needed) {
        if (settings.blobs().fetch(r.getBlobUrl(), b, settings.token())) {
          fetched.add(b);
        }
      }
      SearchCheckpoint sparsified = r.hasSparsified()
          ? SearchCheckpoint.parseFrom(settings.blobs().read(r.getSparsified())) : null;
      JobScoring scoring = new JobScoring(r.getJobId(), spec, queue, settings.apiUrl(), settings.blobs(),
          cancelled::get);
      try {
        JobRunner.finalizeJob(spec, settings.blobs(), work, new FinalizerListener(sparsified, scoring, cancelled));
      } finally {
        scoring.cleanUp();
      }
    } finally {
      deleteAll(r.getJobId(), fetched);
    }
    if (cancelled.get()) {
      throw new IOException("cancelled"); // nothing kept of a run nobody wants
    }
    return JobRunner.keepOutputs(r.getJobId(), settings.blobs(), work, created);
  }

  /** From the actor and from the worker thread. */
  private void deleteAll(String id, List<Blob> blobs) {
    for (Blob b : blobs) {
      try {
        settings.blobs().delete(b);
      } catch (IOException e) {
        LOG.warn("job {}: cannot delete blob {}: {}", id, b.getSha256(), e.getMessage());
      }
    }
  }
}
