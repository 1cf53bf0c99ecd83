package io.evoc.coordinator.server.jobs;

import io.evoc.protocol.jobs.Blob;
import io.evoc.protocol.jobs.JobEvent;
import io.evoc.protocol.jobs.JobSpec;
import io.evoc.protocol.search.TraceRecord;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.SnapshotAdapter;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;

/**
 * A job book's journal made up for {@code bench journal}: finished jobs of the shape a real one
 * persists (submitted, started, a phase, one checkpoint per cycle carrying its trace record and
 * generations, the phase and the end), written through the node's own persistence, with a snapshot
 * after the last event.
 */
public final class SyntheticJournal
    extends EventSourcedBehavior<SyntheticJournal.Write, JobEvent, JobManager.Jobs> {
  /** One job's events, persisted together. */
  public record Write(List<JobEvent> events, boolean last, ActorRef<Long> replyTo) {}

  private final int fullFeeds;
  private boolean snapshotNow;
  private long written;

  private SyntheticJournal(int fullFeeds) {
    super(PersistenceId.ofUniqueId("evoc-jobs"));
    this.fullFeeds = fullFeeds;
  }

  /**
   * Writes {@code jobs} jobs into the journal of {@code system} (whose persistence is the node's).
   *
   * @return the events written
   */
  public static long write(ActorSystem<?> system, int jobs, int cycles, int generations, int fullFeeds) {
    ActorRef<Write> writer = system.systemActorOf(Behaviors.setup(ctx -> new SyntheticJournal(fullFeeds)),
        "synthetic-journal", org.apache.pekko.actor.typed.Props.empty());
    long events = 0;
    for (int j = 1; j <= jobs; j++) {
      List<JobEvent> job = job("j" + j, cycles, generations, 1_000_000L * j);
      boolean last = j == jobs;
      events = AskPattern.<Write, Long>ask(writer, reply -> new Write(job, last, reply), Duration.ofMinutes(1),
          system.scheduler()).toCompletableFuture().join();
    }
    return events;
  }

  static List<JobEvent> job(String id, int cycles, int generations, long at) {
    Blob blob = Blob.newBuilder().setName(id).setSha256(String.format("%064x", id.hashCode())).setBytes(1 << 20)
        .build();
    List<JobEvent> events = new ArrayList<>();
    events.add(event(id, at++).setSubmitted(JobSpec.newBuilder().setModel(blob).setCalib(blob)
        .putSettings("sparsity", "0.9").putSettings("seed", "1")).build());
    events.add(event(id, at++).setStarted(JobEvent.Started.newBuilder().setAttempt(1)).build());
    events.add(event(id, at++).setPhase("sparsifying").build());
    for (int c = 1; c <= cycles; c++) {
      JobEvent.Checkpointed.Builder checkpoint = JobEvent.Checkpointed.newBuilder().setCheckpoint(blob)
          .addTrace(TraceRecord.newBuilder().setCycle(c).setLayer("fc1.weight").setCommitted(4704)
              .setLayerSparsity(0.015 * c).setSparsity(0.012 * c).setDivergence(0.001f * c).setAgreement(0.99f)
              .setElapsedMillis(1000L * c).setCandidatesScored(1280L * c));
      for (int g = 0; g < generations; g++) {
        checkpoint.addGenerations(JobEvent.GenerationRecord.newBuilder().setCycle(c).setLayer("fc1.weight")
            .setGeneration(g).setBestDivergence(0.001f * c).setCandidates(64).setScoringNanos(52_000_000)
            .setElapsedMillis(1000L * c).setCandidatesScored(1280L * c).setAtMillis(at));
      }
      events.add(event(id, at++).setCheckpointed(checkpoint).build());
    }
    events.add(event(id, at++).setPhase("finalizing").build());
    events.add(event(id, at).setSucceeded(JobEvent.Succeeded.newBuilder().setArtifact(blob).setReport(blob)
        .setDecompressed(blob)).build());
    return events;
  }

  private static JobEvent.Builder event(String id, long at) {
    return JobEvent.newBuilder().setJobId(id).setAtMillis(at);
  }

  @Override
  public JobManager.Jobs emptyState() {
    return new JobManager.Jobs(fullFeeds);
  }

  @Override
  public CommandHandler<Write, JobEvent, JobManager.Jobs> commandHandler() {
    return newCommandHandlerBuilder().forAnyState().onAnyCommand((jobs, w) -> {
      snapshotNow = w.last();
      written += w.events().size();
      long total = written;
      return Effect().persist(w.events()).thenReply(w.replyTo(), after -> total);
    });
  }

  @Override
  public EventHandler<JobManager.Jobs, JobEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(JobManager::apply);
  }

  @Override
  public boolean shouldSnapshot(JobManager.Jobs state, JobEvent event, long sequenceNr) {
    return snapshotNow && event.hasSucceeded();
  }

  @Override
  public SnapshotAdapter<JobManager.Jobs> snapshotAdapter() {
    return new JobManager.Snapshots(fullFeeds);
  }
}
