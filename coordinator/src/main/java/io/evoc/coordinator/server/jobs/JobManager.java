package io.evoc.coordinator.server.jobs;

import io.evoc.coordinator.search.Generation;
import io.evoc.coordinator.search.TraceEntry;
import io.evoc.coordinator.server.BlobStore;
import io.evoc.coordinator.server.ServerMetrics;
import io.evoc.coordinator.server.cluster.WorkQueue;
import io.evoc.coordinator.server.finalizer.FinalizerActor;
import io.evoc.evaluator.cluster.ListingForwarder;
import io.evoc.evaluator.engine.Engines;
import io.evoc.protocol.cluster.FinalizeRelease;
import io.evoc.protocol.cluster.FinalizeRequest;
import io.evoc.protocol.cluster.FinalizeResult;
import io.evoc.protocol.cluster.FinalizerMessage;
import io.evoc.protocol.jobs.Blob;
import io.evoc.protocol.jobs.JobBook;
import io.evoc.protocol.jobs.JobEvent;
import io.evoc.protocol.jobs.JobSpec;
import io.evoc.protocol.search.TraceRecord;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.SnapshotSelectionCriteria;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EffectBuilder;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.Recovery;
import org.apache.pekko.persistence.typed.javadsl.RetentionCriteria;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The coordinator's job book: every job's history is a sequence of persisted {@link JobEvent}s
 * (submitted, started, each committed cycle with its search checkpoint, phase changes, succeeded,
 * failed, cancelled), replayed after a restart. Jobs run one at a time, in submission order: the
 * search on a worker thread of the book's, then the rest with a finalizer (see {@link
 * io.evoc.coordinator.server.finalizer.FinalizerActor}), whose outputs the worker fetches into
 * this store. A job that was running when the node went down resumes from its last checkpoint
 * when it comes back (one that was finalizing, from its final one: only the finalization runs
 * again), and queued jobs start after it.
 */
public final class JobManager extends EventSourcedBehavior<JobManager.Command, JobEvent, JobManager.Jobs> {
  public sealed interface Command
      permits Submit, Get, ListJobs, Cancel, Outputs, Feed, Started, StartedOver, Phase, Progress, GenerationDone,
      Checkpoint, Sparsified, FinalizersListed, FinalizerGone, Finalized, Finished, Forget, WasForgotten {}

  /** Replies the new job's id, or an error (the queue is full, or an upload was deleted as it arrived). */
  public record Submit(JobSpec spec, ActorRef<SubmitReply> replyTo) implements Command {}

  /** {@code status}: 202 with the id, else the HTTP status of the error. */
  public record SubmitReply(String id, String error, int status) {}

  public record Get(String id, ActorRef<Optional<Map<String, Object>>> replyTo) implements Command {}

  /** Replies whether a job the book does not have was one it forgot (evoc.limits.kept-jobs). */
  public record WasForgotten(String id, ActorRef<Boolean> replyTo) implements Command {}

  /** Every job's view, in submission order. */
  public record ListJobs(ActorRef<List<Map<String, Object>>> replyTo) implements Command {}

  /** Replies the job's view after the cancellation, or empty when there is no such job. */
  public record Cancel(String id, ActorRef<Optional<Map<String, Object>>> replyTo) implements Command {}

  /** A job's outputs, for downloads: {@code succeeded} is null unless it has succeeded. */
  public record Outputs(String id, ActorRef<OutputsReply> replyTo) implements Command {}

  public record OutputsReply(Optional<Map<String, Object>> job, JobEvent.Succeeded succeeded) {}

  /** The job's feed entries after {@code after} (-1: all); {@code finished} once no more will come. */
  public record Feed(String id, int after, ActorRef<FeedReply> replyTo) implements Command {}

  /** {@code known} false: no such job. */
  public record FeedReply(boolean known, List<Map<String, Object>> entries, boolean finished) {}

  record Started(String id) implements Command {}

  /** Lets the finished jobs beyond evoc.limits.kept-jobs go (after a job's end, and at recovery). */
  record Forget() implements Command {}

  /** What the worker reports: see {@link WorkerListener}. */
  record Phase(String id, String phase) implements Command {}

  /** The attempt could not resume from the job's checkpoint and searches from the start. */
  record StartedOver(String id, String reason) implements Command {}

  record Progress(String id, TraceEntry entry) implements Command {}

  record GenerationDone(String id, Generation generation) implements Command {}

  /** A committed cycle: persisted, so that a restart resumes the search from it. */
  record Checkpoint(String id, JobEvent.Checkpointed checkpointed) implements Command {}

  /** The search is over: {@code checkpoint} is its last (null: the job sparsifies nothing). */
  record Sparsified(String id, Blob checkpoint) implements Command {}

  /** The cluster's finalizers, as the Receptionist lists them. */
  record FinalizersListed(Set<ActorRef<FinalizerMessage>> finalizers) implements Command {}

  /** A finalizer stopped, or its node left the cluster. */
  record FinalizerGone(ActorRef<FinalizerMessage> finalizer) implements Command {}

  /** A finalizer's answer. */
  record Finalized(FinalizeResult result) implements Command {}

  /**
   * The end of a job: outputs, or an error, or neither (cancelled); {@code fetched} when the
   * outputs came from a finalizer.
   */
  record Finished(String id, JobEvent.Succeeded outputs, String error, Fetched fetched) implements Command {
    Finished(String id, JobEvent.Succeeded outputs, String error) {
      this(id, outputs, error, null);
    }
  }

  /**
   * Outputs fetched from a finalizer: the one that answered (null when it no longer had the job), and
   * what the fetch added to this node's store.
   */
  record Fetched(ActorRef<FinalizerMessage> from, List<Blob> added) {}

  /**
   * Every job, in submission order, and the queue. Their history changes only in the event
   * handler; the in-memory parts (latest progress, streamed feed entries) in the command handler.
   */
  public static final class Jobs {
    final Map<String, Job> byId = new LinkedHashMap<>();
    /** Jobs not finished, in the order they run: a job that was running when the node went down first. */
    final Deque<String> queue = new ArrayDeque<>();
    /** How many finished jobs keep every generation in their feed (evoc.limits.full-feeds). */
    private final int fullFeeds;
    /** Finished jobs whose feed is still whole, the earliest finished first. */
    private final Deque<Job> whole = new ArrayDeque<>();
    /**
     * Every event applied, in journal order, less the generations let go of: what a snapshot holds
     * ({@link JobBook}), so that replaying it through {@link #apply} rebuilds this very book.
     */
    final List<JobEvent> history = new ArrayList<>();
    /** Finished jobs, the earliest finished first: the first to be forgotten (evoc.limits.kept-jobs). */
    final Deque<String> finishedOrder = new ArrayDeque<>();
    /** Jobs ever submitted, forgotten ones included: ids are never given twice. */
    int submitted;

    Jobs(int fullFeeds) {
      this.fullFeeds = fullFeeds;
    }

    /**
     * A job has finished: beyond the latest {@code fullFeeds}, a finished job's feed drops its
     * generations (the bulk of it), so that a long-lived node's memory does not grow with every
     * generation it ever ran. The journal keeps them all.
     */
    void finished(Job job) {
      whole.addLast(job);
      while (whole.size() > fullFeeds) {
        Job old = whole.removeFirst();
        old.dropGenerations();
        for (int at : old.checkpointsAt) {
          JobEvent e = history.get(at);
          JobEvent.Checkpointed c = e.getCheckpointed();
          if (c.getGenerationsCount() > 0) {
            history.set(at, e.toBuilder().setCheckpointed(c.toBuilder().clearGenerations()
                .setDroppedGenerations(c.getGenerationsCount())
                .setLastDropped(c.getGenerations(c.getGenerationsCount() - 1))).build());
          }
        }
        old.checkpointsAt.clear();
      }
    }

    Job get(String id) {
      return byId.get(id);
    }

    /** A job this book numbered and let go of: not one it never had. */
    boolean forgotten(String id) {
      if (byId.containsKey(id) || !id.matches("j[1-9][0-9]{0,8}")) {
        return false;
      }
      return Integer.parseInt(id.substring(1)) <= submitted;
    }

    /** Lets finished jobs go: their entries, and their events in the history (where later ones move up). */
    void forget(Collection<String> ids) {
      Set<String> gone = new HashSet<>(ids);
      for (String id : gone) {
        Job job = byId.remove(id);
        if (job != null) {
          whole.remove(job);
        }
      }
      finishedOrder.removeIf(gone::contains);
      history.removeIf(e -> gone.contains(e.getJobId()));
      for (Job j : byId.values()) {
        j.checkpointsAt.clear();
      }
      for (int i = 0; i < history.size(); i++) {
        JobEvent e = history.get(i);
        if (e.hasCheckpointed() && e.getCheckpointed().getGenerationsCount() > 0) {
          byId.get(e.getJobId()).checkpointsAt.add(i);
        }
      }
    }
  }

  private final ActorContext<Command> context;
  private final BlobStore blobs;
  private final Path workRoot;
  private final Limits limits;
  private final ServerMetrics metrics;
  /** Where the search's populations are scored: the cluster's evaluators. */
  private final WorkQueue queue;
  /** This node's HTTP address, from which evaluators and finalizers fetch blobs. */
  private final String blobUrl;
  /** The API token, for fetching a finalizer's outputs from its node. */
  private final String token;
  private final ExecutorService worker;
  /** The job being run, from its search to its outputs in the store; null when none is. */
  private String current;
  /** The current job's search checkpoint to finalize from, once its search is over (null before, or none). */
  private Blob sparsified;
  /**
   * Where the current job is: its search (on the worker), with a finalizer or waiting for one,
   * or its outputs being fetched from the finalizer's node (on the worker).
   */
  private enum Stage { SEARCH, FINALIZE, FETCH }

  private Stage stage;
  /** The finalizer the current job was handed to; null while none has it. */
  private ActorRef<FinalizerMessage> finalizer;
  /** The cluster's finalizers, as last listed. */
  private Set<ActorRef<FinalizerMessage>> finalizers = Set.of();
  private final ActorRef<FinalizeResult> results;
  /** The current job's cancellation, read by its worker; never persisted. */
  private AtomicBoolean cancelRunning = new AtomicBoolean();
  /**
   * Set when this book stops while its job runs (the coordinator handed over to another node, or
   * the node shuts down): the worker stops at its next generation and leaves what it published,
   * which the job's next run, wherever it resumes, publishes again under the same SHA-256.
   */
  private volatile boolean stopped;

  /**
   * The book's bounds: jobs waiting or running at once, finished jobs whose feed keeps its
   * generations, how many events go between snapshots (0: none, every restart replays the whole
   * journal), and how many finished jobs are kept (0: all).
   */
  public record Limits(int queued, int fullFeeds, int snapshotEvery, int keptJobs) {}

  public static Behavior<Command> create(BlobStore blobs, Path workRoot, Limits limits, ServerMetrics metrics,
      WorkQueue queue, String blobUrl, String token) {
    return Behaviors.setup(ctx -> new JobManager(ctx, blobs, workRoot, limits, metrics, queue, blobUrl, token));
  }

  private JobManager(ActorContext<Command> context, BlobStore blobs, Path workRoot, Limits limits,
      ServerMetrics metrics, WorkQueue queue, String blobUrl, String token) {
    super(PersistenceId.ofUniqueId("evoc-jobs"));
    this.context = context;
    this.blobs = blobs;
    this.workRoot = workRoot;
    this.limits = limits;
    this.metrics = metrics;
    this.queue = queue;
    this.blobUrl = blobUrl;
    this.token = token;
    this.results = context.messageAdapter(FinalizeResult.class, Finalized::new);
    context.spawn(ListingForwarder.create(FinalizerActor.KEY, context.messageAdapter(Receptionist.Listing.class,
        l -> new FinalizersListed(l.getServiceInstances(FinalizerActor.KEY)))), "finalizer-listing");
    this.worker = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "evoc-job-worker");
      t.setDaemon(true);
      return t;
    });
  }

  @Override
  public Jobs emptyState() {
    return new Jobs(limits.fullFeeds());
  }

  /** Snapshots bound a restart's replay; the journal still keeps every event. */
  @Override
  public RetentionCriteria retentionCriteria() {
    return limits.snapshotEvery() > 0 ? RetentionCriteria.snapshotEvery(limits.snapshotEvery(), 2)
        : RetentionCriteria.disabled();
  }

  /** Without snapshots, the whole journal: an earlier run's snapshots are not read either. */
  @Override
  public Recovery recovery() {
    return limits.snapshotEvery() > 0 ? super.recovery()
        : Recovery.withSnapshotSelectionCriteria(SnapshotSelectionCriteria.none());
  }

  @Override
  public SnapshotAdapter<Jobs> snapshotAdapter() {
    return new Snapshots(limits.fullFeeds());
  }

  /**
   * A snapshot is the book's history, not its live parts (the generations since the last
   * checkpoint, which the search runs again after a restart): rebuilt by the same {@link #apply}
   * as a replay of the journal, it is the book the journal would give.
   */
  record Snapshots(int fullFeeds) implements SnapshotAdapter<Jobs> {
    @Override
    public Object toJournal(Jobs jobs) {
      return JobBook.newBuilder().addAllEvents(jobs.history).setSubmitted(jobs.submitted).build();
    }

    @Override
    public Jobs fromJournal(Object snapshot) {
      Jobs jobs = new Jobs(fullFeeds);
      JobBook book = (JobBook) snapshot;
      for (JobEvent e : book.getEventsList()) {
        apply(jobs, e);
      }
      jobs.submitted = Math.max(jobs.submitted, book.getSubmitted()); // forgotten jobs' numbers too
      return jobs;
    }
  }

  @Override
  public CommandHandler<Command, JobEvent, Jobs> commandHandler() {
    return newCommandHandlerBuilder().forAnyState()
        .onCommand(Submit.class, this::submit)
        .onCommand(Get.class, (jobs, c) -> Effect().reply(c.replyTo(), Optional.ofNullable(jobs.get(c.id()))
            .map(Job::view)))
        .onCommand(ListJobs.class, (jobs, c) -> Effect().reply(c.replyTo(), jobs.byId.values().stream()
            .map(Job::view).toList()))
        .onCommand(Cancel.class, this::cancel)
        .onCommand(Outputs.class, (jobs, c) -> {
          Job job = jobs.get(c.id());
          return Effect().reply(c.replyTo(), new OutputsReply(Optional.ofNullable(job).map(Job::view),
              job == null ? null : job.outputs));
        })
        .onCommand(Started.class, (jobs, c) -> {
          Job job = jobs.get(c.id());
          return Effect().persist(event(c.id()).setStarted(JobEvent.Started.newBuilder().setAttempt(job.attempt + 1)
              .setResumedCycle(job.checkpoint == null ? 0 : job.checkpointCycle)).build());
        })
        .onCommand(Phase.class, (jobs, c) -> Effect().persist(event(c.id()).setPhase(c.phase()).build()))
        .onCommand(StartedOver.class, (jobs, c) -> {
          Job job = jobs.get(c.id());
          if (job == null || job.state.finished()) {
            return Effect().none();
          }
          Blob refused = job.checkpoint; // of no use to any later attempt
          return Effect().persist(event(c.id()).setStartedOver(c.reason()).build())
              .thenRun(after -> dropCheckpoint(refused, null));
        })
        .onCommand(Feed.class, (jobs, c) -> {
          Job job = jobs.get(c.id());
          if (job == null) {
            return Effect().reply(c.replyTo(), new FeedReply(false, List.of(), true));
          }
          return Effect().reply(c.replyTo(), new FeedReply(true, job.feedAfter(c.after()), job.state.finished()));
        })
        .onCommand(Progress.class, (jobs, c) -> {
          Job job = jobs.get(c.id());
          if (job != null) { // live; the feed gets it with the checkpoint that persists it
            job.progress = c.entry();
            job.layerSparsity.put(c.entry().layer(), c.entry().layerSparsity());
            metrics.commit(c.id(), c.entry());
          }
          return Effect().none();
        })
        .onCommand(GenerationDone.class, (jobs, c) -> {
          Job job = jobs.get(c.id());
          if (job != null) {
            JobEvent.GenerationRecord g = record(c.generation(), System.currentTimeMillis());
            job.unpersisted.add(g);
            job.lastGeneration = g;
            job.publish("generation", g.getAtMillis(), Job.describe(g));
            metrics.generation(c.id(), c.generation());
          }
          return Effect().none();
        })
        .onCommand(Checkpoint.class, this::checkpoint)
        .onCommand(Sparsified.class, this::sparsified)
        .onCommand(FinalizersListed.class, (jobs, c) -> {
          finalizers = c.finalizers();
          if (stage == Stage.FINALIZE && finalizer == null) {
            handOver(jobs);
          }
          return Effect().none();
        })
        .onCommand(FinalizerGone.class, (jobs, c) -> {
          // Until the Receptionist lists without it: never handed the job again.
          finalizers = finalizers.stream().filter(f -> !f.equals(c.finalizer()))
              .collect(java.util.stream.Collectors.toUnmodifiableSet());
          if (c.finalizer().equals(finalizer)) {
            context.getLog().warn("job {}: its finalizer {} is gone; handing the job to another", current, finalizer);
            finalizer = null;
            jobs.get(current).finalizingOn = null;
            handOver(jobs);
          }
          return Effect().none();
        })
        .onCommand(Finalized.class, this::finalized)
        .onCommand(Finished.class, this::finished)
        .onCommand(Forget.class, (jobs, c) -> forget(jobs))
        .onCommand(WasForgotten.class, (jobs, c) -> Effect().reply(c.replyTo(), jobs.forgotten(c.id())))
        .build();
  }

  private Effect<JobEvent, Jobs> submit(Jobs jobs, Submit c) {
    long waiting = jobs.byId.values().stream().filter(j -> !j.state.finished()).count();
    if (waiting >= limits.queued()) {
      return refuse(jobs, c, 429, waiting + " jobs are waiting or running; the limit is " + limits.queued()
          + " (evoc.limits.queued-jobs)");
    }
    for (Blob b : JobRunner.inputs(c.spec())) {
      if (blobs.find(b.getSha256()) == null) { // its upload matched a file a forgotten job's end just deleted
        return refuse(jobs, c, 503, "an uploaded file (" + b.getName() + ") was deleted by a cleanup as it arrived;"
            + " submit again");
      }
    }
    String id = "j" + (jobs.submitted + 1);
    return Effect().persist(event(id).setSubmitted(c.spec()).build())
        .thenRun(after -> startNext(after))
        .thenReply(c.replyTo(), after -> new SubmitReply(id, null, 202));
  }

  /** A refused submission leaves nothing: what it uploaded goes unless a job names the same file. */
  private Effect<JobEvent, Jobs> refuse(Jobs jobs, Submit c, int status, String error) {
    Set<String> named = referenced(jobs);
    JobRunner.inputs(c.spec()).stream().filter(b -> !named.contains(b.getSha256())).forEach(this::dropBlob);
    return Effect().reply(c.replyTo(), new SubmitReply(null, error, status));
  }

  private Effect<JobEvent, Jobs> cancel(Jobs jobs, Cancel c) {
    Job job = jobs.get(c.id());
    if (job == null) {
      return Effect().reply(c.replyTo(), Optional.empty());
    }
    if (job.state.finished()) {
      return Effect().reply(c.replyTo(), Optional.of(job.view()));
    }
    if (c.id().equals(current)) {
      cancelRunning.set(true);
      if (stage == Stage.FINALIZE) {
        // With a finalizer, or waiting for one: cancelled now, the finalizer told to stop.
        if (finalizer != null) {
          finalizer.tell(FinalizerMessage.newBuilder().setCancel(c.id()).build());
        }
        return finished(jobs, new Finished(c.id(), null, null)).thenReply(c.replyTo(),
            after -> Optional.of(after.get(c.id()).view()));
      }
      // The worker stops at its next generation (or fetch) and reports back; the job is cancelled then.
      return Effect().reply(c.replyTo(), Optional.of(job.view()));
    }
    return Effect().persist(event(c.id()).setCancelled(JobEvent.Cancelled.getDefaultInstance()).build())
        .thenRun(after -> context.getSelf().tell(new Forget()))
        .thenReply(c.replyTo(), after -> Optional.of(after.get(c.id()).view()));
  }

  /** Persists a committed cycle, then drops the checkpoint it supersedes: a job keeps only its latest. */
  private Effect<JobEvent, Jobs> checkpoint(Jobs jobs, Checkpoint c) {
    Job job = jobs.get(c.id());
    Blob fresh = c.checkpointed().getCheckpoint();
    if (job == null || job.state.finished()) { // no history will name it
      if (!referenced(jobs).contains(fresh.getSha256())) {
        dropCheckpoint(fresh, null);
      }
      return Effect().none();
    }
    Blob old = job.checkpoint;
    return Effect().persist(event(c.id()).setCheckpointed(c.checkpointed().toBuilder()
            .addAllGenerations(job.unpersisted)).build())
        .thenRun(after -> dropCheckpoint(old, fresh));
  }

  private void dropCheckpoint(Blob old, Blob kept) {
    if (old != null && (kept == null || !old.getSha256().equals(kept.getSha256()))) {
      dropBlob(old);
    }
  }

  /** Every blob the book's jobs name: their inputs, their checkpoints, their outputs. */
  static Set<String> referenced(Jobs jobs) {
    Set<String> named = new HashSet<>();
    for (Job job : jobs.byId.values()) {
      JobRunner.inputs(job.spec).forEach(b -> named.add(b.getSha256()));
      if (job.checkpoint != null) {
        named.add(job.checkpoint.getSha256());
      }
      if (job.outputs != null) {
        JobRunner.outputs(job.outputs).forEach(b -> named.add(b.getSha256()));
      }
    }
    return named;
  }

  /** The search is over (or was cancelled, or stopped with the book): on to a finalizer. */
  private Effect<JobEvent, Jobs> sparsified(Jobs jobs, Sparsified c) {
    if (!c.id().equals(current) || stage != Stage.SEARCH) {
      return Effect().none();
    }
    if (cancelRunning.get()) {
      return finished(jobs, new Finished(c.id(), null, null));
    }
    sparsified = c.checkpoint();
    stage = Stage.FINALIZE;
    return Effect().persist(event(c.id()).setPhase("finalizing").build()).thenRun(this::handOver);
  }

  /**
   * The current job to a finalizer: the one on this node if there is one (nothing to fetch), else
   * the first listed. With none, the job waits for one to register.
   */
  private void handOver(Jobs jobs) {
    if (finalizers.isEmpty()) {
      context.getLog().warn("job {}: waiting for a node with the finalizer role", current);
      return;
    }
    finalizer = finalizers.stream().filter(f -> f.path().address().hasLocalScope()).findFirst()
        .orElseGet(() -> finalizers.stream().min(java.util.Comparator.comparing(f -> f.path().toString())).get());
    FinalizeRequest.Builder r = FinalizeRequest.newBuilder().setJobId(current).setSpec(jobs.get(current).spec)
        .setBlobUrl(blobUrl).setReplyTo(ActorRefResolver.get(context.getSystem()).toSerializationFormat(results));
    if (sparsified != null) {
      r.setSparsified(sparsified);
    }
    jobs.get(current).finalizingOn = nodeOf(finalizer);
    context.getLog().info("job {}: finalizing on {}", current, jobs.get(current).finalizingOn);
    context.watchWith(finalizer, new FinalizerGone(finalizer));
    finalizer.tell(FinalizerMessage.newBuilder().setRequest(r).build());
  }

  /** The cluster address of an actor's node, this node's for a local actor. */
  private String nodeOf(ActorRef<?> ref) {
    org.apache.pekko.actor.Address a = ref.path().address();
    return (a.hasLocalScope() ? Cluster.get(context.getSystem()).selfMember().address() : a).toString();
  }

  /** A finalizer's answer: an error ends the job; outputs are fetched into this store (on the worker), then it ends. */
  private Effect<JobEvent, Jobs> finalized(Jobs jobs, Finalized c) {
    FinalizeResult r = c.result();
    if (!r.getJobId().equals(current) || stage != Stage.FINALIZE) {
      return Effect().none(); // a repeated answer, or one for a job already over
    }
    // The answer may come from a finalizer the job was taken from (thought gone, or asked by the
    // coordinator before a handover): as good as any, the finalizer that has the job now is stopped.
    ActorRef<FinalizerMessage> from = finalizer != null && nodeOf(finalizer).equals(r.getNode()) ? finalizer : null;
    if (finalizer != null) {
      context.unwatch(finalizer);
      if (from == null) {
        finalizer.tell(FinalizerMessage.newBuilder().setSupersede(current).build());
      }
    }
    finalizer = null;
    if (!r.hasSucceeded()) {
      return finished(jobs, new Finished(r.getJobId(), null, r.getError().isEmpty() ? "the finalizer failed"
          : r.getError()));
    }
    stage = Stage.FETCH;
    ActorRef<Command> self = context.getSelf();
    JobEvent.Succeeded outputs = r.getSucceeded().toBuilder().setFinalizedOn(r.getNode()).build();
    worker.execute(() -> {
      try {
        List<Blob> added = new ArrayList<>();
        for (Blob b : JobRunner.outputs(outputs)) {
          if (blobs.fetch(r.getBlobUrl(), b, token)) {
            added.add(b);
          }
        }
        self.tell(new Finished(r.getJobId(), outputs, null, new Fetched(from, added)));
      } catch (IOException | RuntimeException e) {
        self.tell(new Finished(r.getJobId(), null, "cannot fetch the finalizer's outputs: " + oneLine(e)));
      }
    });
    return Effect().none();
  }

  private EffectBuilder<JobEvent, Jobs> finished(Jobs jobs, Finished c) {
    if (!c.id().equals(current)) {
      return Effect().none(); // the worker's report of a job cancelled while it was with its finalizer
    }
    if (finalizer != null) {
      context.unwatch(finalizer);
      finalizer = null;
    }
    JobEvent.Builder e = event(c.id());
    if (cancelRunning.get()) {
      e.setCancelled(JobEvent.Cancelled.getDefaultInstance());
    } else if (c.outputs() != null) {
      e.setSucceeded(c.outputs());
    } else {
      e.setFailed(c.error());
    }
    Blob checkpoint = jobs.get(c.id()).checkpoint;
    boolean cancelled = cancelRunning.get();
    return Effect().persist(e.build()).thenRun(after -> {
      dropCheckpoint(checkpoint, null);
      if (c.fetched() != null) {
        settle(c.id(), c.fetched(), cancelled);
      }
      current = null;
      metrics.finished(c.id(), after.get(c.id()).state == Job.State.FAILED);
      startNext(after);
      context.getSelf().tell(new Forget());
    });
  }

  /**
   * Lets the finished jobs beyond {@code kept-jobs} go, the earliest finished first, then deletes
   * the files only they named and their work directories.
   */
  private Effect<JobEvent, Jobs> forget(Jobs jobs) {
    if (limits.keptJobs() <= 0 || jobs.finishedOrder.size() <= limits.keptJobs()) {
      return Effect().none();
    }
    List<Job> gone = jobs.finishedOrder.stream().limit(jobs.finishedOrder.size() - limits.keptJobs())
        .map(jobs::get).toList();
    List<Blob> files = new ArrayList<>();
    for (Job j : gone) {
      files.addAll(JobRunner.inputs(j.spec));
      if (j.outputs != null) {
        files.addAll(JobRunner.outputs(j.outputs));
      }
    }
    // Marked first: a node that stops between the event and the deletions deletes them when it recovers.
    files.removeIf(b -> b.getSha256().isEmpty() || !markTransient(b));
    List<String> ids = gone.stream().map(j -> j.id).toList();
    return Effect().persist(JobEvent.newBuilder().setAtMillis(System.currentTimeMillis())
            .setForgotten(JobEvent.Forgotten.newBuilder().addAllJobIds(ids)).build())
        .thenRun(after -> {
          Set<String> named = referenced(after);
          for (Blob b : files) {
            if (!named.contains(b.getSha256())) {
              dropBlob(b);
            }
          }
          for (String id : ids) {
            deleteWork(id);
          }
          context.getLog().info("forgot {} finished job(s) beyond evoc.limits.kept-jobs ({}): {}", ids.size(),
              limits.keptJobs(), ids);
          count(after);
        });
  }

  private boolean markTransient(Blob b) {
    try {
      blobs.markTransient(b);
      return true;
    } catch (IOException e) {
      context.getLog().warn("cannot mark blob {} for deletion: {}", b.getSha256(), e.getMessage());
      return false;
    }
  }

  /** Deletes a blob no job needs: a superseded checkpoint, a forgotten job's file, a cancelled job's outputs. */
  private void dropBlob(Blob b) {
    try {
      blobs.delete(b);
    } catch (IOException e) {
      context.getLog().warn("cannot delete blob {} ({}): {}", b.getSha256(), b.getName(), e.getMessage());
    }
  }

  /** A job's work directories on this node: its search's, and its finalization's where this node had it. */
  private void deleteWork(String id) {
    for (Path dir : List.of(workRoot.resolve(id), workRoot.resolveSibling("finalize").resolve(id))) {
      try {
        JobRunner.deleteTree(dir);
      } catch (IOException | RuntimeException e) {
        context.getLog().warn("job {}: cannot delete {}: {}", id, dir, oneLine(e));
      }
    }
  }

  /**
   * The finalizer's outputs once the job's end is persisted: kept, the finalizer told it may let its
   * copies go (deleting them when this node fetched its own); or, when the job was cancelled while
   * they were fetched, deleted here and there.
   */
  private void settle(String id, Fetched fetched, boolean cancelled) {
    if (cancelled) {
      fetched.added().forEach(this::dropBlob);
    }
    if (fetched.from() == null) {
      return;
    }
    FinalizerMessage.Builder m = FinalizerMessage.newBuilder();
    if (cancelled) {
      m.setCancel(id);
    } else {
      m.setRelease(FinalizeRelease.newBuilder().setJobId(id).setFetched(!fetched.added().isEmpty()));
    }
    fetched.from().tell(m.build());
  }

  /** Hands the next queued job to the worker when it is idle. */
  private void startNext(Jobs jobs) {
    if (current != null || jobs.queue.isEmpty()) {
      return;
    }
    String id = jobs.queue.peekFirst();
    current = id;
    stage = Stage.SEARCH;
    sparsified = null;
    JobSpec spec = jobs.get(id).spec;
    Blob resume = jobs.get(id).checkpoint;
    ActorRef<Command> self = context.getSelf();
    cancelRunning = new AtomicBoolean();
    AtomicBoolean cancelled = cancelRunning;
    self.tell(new Started(id));
    worker.execute(() -> {
      WorkerListener listener = new WorkerListener(id, spec, self, cancelled, queue, blobUrl, blobs, resume);
      try {
        Engines.inferenceThread();
        JobRunner.sparsify(spec, blobs, workRoot.resolve(id), listener);
        cleanUp(listener);
        self.tell(new Sparsified(id, listener.latestCheckpoint()));
      } catch (Exception | Error e) {
        cleanUp(listener);
        // Errors too (a native library that fails to link): a job must end, never hang in "starting".
        self.tell(new Finished(id, null, oneLine(e)));
      }
    });
  }

  private void cleanUp(WorkerListener listener) {
    if (!stopped) {
      listener.cleanUp();
    }
  }

  /** An error's message on one line, as a failed job's history keeps it. */
  public static String oneLine(Throwable e) {
    String m = e.getMessage() == null ? e.toString() : e.getMessage();
    return m.replace('\n', ' ');
  }

  @Override
  public EventHandler<Jobs, JobEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent((jobs, e) -> {
      Jobs after = apply(jobs, e);
      count(after);
      return after;
    });
  }

  /** Replays one event onto the book: the only place its history changes. */
  static Jobs apply(Jobs jobs, JobEvent e) {
    String id = e.getJobId();
    if (e.hasForgotten()) {
      jobs.forget(e.getForgotten().getJobIdsList());
      return jobs;
    }
    if (e.hasSubmitted()) {
      jobs.submitted++;
      jobs.history.add(e);
      Job job = new Job(id, e.getSubmitted(), e.getAtMillis());
      jobs.byId.put(id, job);
      jobs.queue.addLast(id);
      job.publish("submitted", e.getAtMillis(), Map.of("settings", new java.util.TreeMap<>(
          e.getSubmitted().getSettingsMap())));
      return jobs;
    }
    Job job = jobs.get(id);
    if (job == null) {
      return jobs; // an event for a job this book never had: nothing to apply it to
    }
    jobs.history.add(e);
    applyTo(jobs, job, e);
    if (e.hasCheckpointed()) {
      job.checkpointsAt.add(jobs.history.size() - 1);
      List<JobEvent.GenerationRecord> generations = e.getCheckpointed().getGenerationsList();
      // Live, they were streamed as they happened; replayed, they are streamed now.
      int live = Math.min(job.unpersisted.size(), generations.size());
      job.unpersisted.subList(0, live).clear();
      for (JobEvent.GenerationRecord g : generations.subList(live, generations.size())) {
        job.lastGeneration = g;
        job.publish("generation", g.getAtMillis(), Job.describe(g));
      }
      if (e.getCheckpointed().hasLastDropped()) {
        job.lastGeneration = e.getCheckpointed().getLastDropped();
        job.skipEntries(e.getCheckpointed().getDroppedGenerations());
      }
      for (TraceRecord r : e.getCheckpointed().getTraceList()) {
        job.layerSparsity.put(r.getLayer(), r.getLayerSparsity());
        job.publish(r.getDistilled() > 0 ? "distilled" : "commit", e.getAtMillis(), Job.describe(TraceEntry.of(r)));
      }
      return jobs;
    }
    job.publish(e.getKindCase().name().toLowerCase(java.util.Locale.ROOT), e.getAtMillis(), switch (e.getKindCase()) {
      case STARTED -> Map.of("attempt", job.attempt, "resumed_cycle", e.getStarted().getResumedCycle());
      case STARTED_OVER -> Map.of("attempt", job.attempt, "reason", e.getStartedOver());
      case PHASE -> Map.of("phase", job.phase);
      case FAILED -> Map.of("error", job.error);
      case SUCCEEDED -> Map.of("artifact_bytes", job.outputs.getArtifact().getBytes(), "artifact_sha256",
          job.outputs.getArtifact().getSha256());
      default -> Map.of();
    });
    if (e.hasSucceeded() || e.hasFailed() || e.hasCancelled()) {
      jobs.finishedOrder.addLast(id);
      jobs.finished(job);
    }
    return jobs;
  }

  private static void applyTo(Jobs jobs, Job job, JobEvent e) {
    String id = job.id;
    switch (e.getKindCase()) {
      case STARTED -> {
        job.state = Job.State.RUNNING;
        job.phase = "starting";
        job.attempt = e.getStarted().getAttempt();
        job.startedMillis = e.getAtMillis();
        job.resumedCycle = e.getStarted().getResumedCycle();
      }
      case STARTED_OVER -> { // what the old checkpoint held no longer stands
        job.resumedCycle = 0;
        job.checkpoint = null;
        job.checkpointCycle = 0;
        job.progress = null;
        job.layerSparsity.clear();
        job.lastGeneration = null;
      }
      case CHECKPOINTED -> {
        job.checkpoint = e.getCheckpointed().getCheckpoint();
        int n = e.getCheckpointed().getTraceCount();
        if (n > 0) {
          job.progress = TraceEntry.of(e.getCheckpointed().getTrace(n - 1));
          job.checkpointCycle = job.progress.cycle();
        }
      }
      case PHASE -> {
        job.phase = e.getPhase();
        job.state = e.getPhase().equals("finalizing") ? Job.State.FINALIZING : Job.State.RUNNING;
      }
      case SUCCEEDED, FAILED, CANCELLED -> {
        job.state = switch (e.getKindCase()) {
          case SUCCEEDED -> Job.State.SUCCEEDED;
          case FAILED -> Job.State.FAILED;
          default -> Job.State.CANCELLED;
        };
        job.phase = job.state.lowerCase();
        job.outputs = e.hasSucceeded() ? e.getSucceeded() : null;
        job.error = e.hasFailed() ? e.getFailed() : null;
        job.finishedMillis = e.getAtMillis();
        job.checkpoint = null; // dropped once the job is over
        jobs.queue.remove(id);
      }
      default -> { }
    }
  }

  @Override
  public SignalHandler<Jobs> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), this::recovered)
        .onSignal(PostStop.instance(), jobs -> {
          stopped = true;
          cancelRunning.set(true); // never persisted: the journal still has the job running
          worker.shutdownNow();
        })
        .build();
  }

  /** Jobs unfinished when the node went down run again, the one that was running first. */
  private void recovered(Jobs jobs) {
    count(jobs); // a recovery from a snapshot alone replays no event
    context.getSelf().tell(new Forget()); // kept-jobs may have been lowered
    if (limits.keptJobs() > 0) { // work directories of jobs forgotten as the node stopped
      try (var dirs = java.nio.file.Files.list(workRoot)) {
        dirs.map(d -> d.getFileName().toString()).filter(id -> jobs.get(id) == null).forEach(this::deleteWork);
      } catch (IOException | RuntimeException e) {
        context.getLog().debug("no work directories to look at: {}", e.getMessage());
      }
    }
    try { // never in the way of recovery: what it cannot delete now, a later recovery will
      List<String> orphans = blobs.sweepTransient(referenced(jobs));
      if (!orphans.isEmpty()) {
        context.getLog().info("deleted {} transient blob(s) no job names (the node stopped before it took or dropped"
            + " them): {}", orphans.size(), orphans);
      }
    } catch (IOException | RuntimeException e) {
      context.getLog().warn("cannot sweep the transient blobs no job names: {}", oneLine(e));
    }
    List<String> waiting = new ArrayList<>(jobs.queue);
    if (!waiting.isEmpty()) {
      context.getLog().info("resuming {} unfinished job(s): {}", waiting.size(), waiting);
    }
    startNext(jobs);
  }

  /** Jobs by state, for the metrics, after every event. */
  private void count(Jobs jobs) {
    Map<String, Long> counts = new java.util.HashMap<>();
    for (Job j : jobs.byId.values()) {
      counts.merge(j.state.lowerCase(), 1L, Long::sum);
    }
    metrics.jobs(counts);
  }

  private static JobEvent.GenerationRecord record(Generation g, long atMillis) {
    return JobEvent.GenerationRecord.newBuilder().setCycle(g.cycle()).setLayer(g.layer())
        .setGeneration(g.generation()).setBestDivergence(g.bestDivergence()).setCandidates(g.candidates())
        .setScoringNanos(g.scoringNanos()).setElapsedMillis(g.elapsedMillis())
        .setCandidatesScored(g.candidatesScored()).setAtMillis(atMillis).build();
  }

  private static JobEvent.Builder event(String id) {
    return JobEvent.newBuilder().setJobId(id).setAtMillis(System.currentTimeMillis());
  }
}
