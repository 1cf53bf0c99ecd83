package io.evoc.coordinator.server.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import io.evoc.protocol.jobs.Blob;
import io.evoc.protocol.jobs.JobBook;
import io.evoc.protocol.jobs.JobEvent;
import io.evoc.protocol.jobs.JobSpec;
import io.evoc.protocol.search.TraceRecord;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A snapshot of the job book, taken after any event and followed by the events after it, gives the
 * book the whole journal gives: every job's view, its feed with each entry numbered as it was, the
 * queue, and which finished jobs still keep their generations.
 */
class JobBookSnapshotTest {
  /** Finished jobs whose feed keeps its generations: one, so that the second job to end lets the first's go. */
  private static final int FULL_FEEDS = 1;

  @Test
  void aSnapshotAndTheEventsAfterItGiveTheBookTheJournalGives() throws Exception {
    JobManager.Jobs kept = replay(new JobManager.Jobs(FULL_FEEDS), journal(false));
    // Each job's generations are let go of once the next has finished.
    assertThat(kept.get("j1").feedAfter(-1)).noneMatch(m -> m.get("type").equals("generation"));
    assertThat(kept.get("j2").feedAfter(-1)).noneMatch(m -> m.get("type").equals("generation"));
    assertThat(kept.get("j3").feedAfter(-1)).anyMatch(m -> m.get("type").equals("generation"));

    JobManager.Snapshots snapshots = new JobManager.Snapshots(FULL_FEEDS);
    for (boolean forgetting : new boolean[] {false, true}) {
      List<JobEvent> journal = journal(forgetting);
      JobManager.Jobs whole = replay(new JobManager.Jobs(FULL_FEEDS), journal);
      for (int k = 0; k <= journal.size(); k++) {
        JobManager.Jobs before = replay(new JobManager.Jobs(FULL_FEEDS), journal.subList(0, k));
        // Through its bytes, as the snapshot store keeps it.
        JobBook stored = JobBook.parseFrom(((JobBook) snapshots.toJournal(before)).toByteArray());
        JobManager.Jobs restored = replay(snapshots.fromJournal(stored), journal.subList(k, journal.size()));
        assertSameBook(restored, whole, (forgetting ? "forgetting j1, " : "") + "snapshot after event " + k);
      }
    }
  }

  @Test
  void aForgottenJobLeavesNothingButItsNumber() {
    List<JobEvent> journal = journal(true);
    JobManager.Jobs book = replay(new JobManager.Jobs(FULL_FEEDS), journal);
    assertThat(book.byId.keySet()).containsExactly("j2", "j3");
    assertThat(book.finishedOrder).containsExactly("j2", "j3");
    assertThat(book.history).noneMatch(e -> e.getJobId().equals("j1"));
    assertThat(book.submitted).isEqualTo(3);
    // j2's generations were let go of after j1 was forgotten, the history's positions moved: its
    // checkpoints are the ones stripped, every other event as persisted.
    List<JobEvent> second = book.history.stream().filter(e -> e.getJobId().equals("j2")).toList();
    List<JobEvent> persisted = journal.stream().filter(e -> e.getJobId().equals("j2")).toList();
    assertThat(second).hasSameSizeAs(persisted);
    for (int i = 0; i < second.size(); i++) {
      if (persisted.get(i).hasCheckpointed()) {
        assertThat(second.get(i).getCheckpointed().getGenerationsCount()).isZero();
        assertThat(second.get(i).getCheckpointed().getDroppedGenerations())
            .isEqualTo(persisted.get(i).getCheckpointed().getGenerationsCount());
      } else {
        assertThat(second.get(i)).isEqualTo(persisted.get(i));
      }
    }
    JobBook snapshot = (JobBook) new JobManager.Snapshots(FULL_FEEDS).toJournal(book);
    assertThat(snapshot.getSubmitted()).isEqualTo(3);
    assertThat(new JobManager.Snapshots(FULL_FEEDS).fromJournal(snapshot).submitted).as("the next job is j4").isEqualTo(3);
  }

  @Test
  void aSnapshotHoldsNoGenerationTheBookLetGo() {
    JobManager.Jobs book = replay(new JobManager.Jobs(FULL_FEEDS), journal(false));
    JobBook snapshot = (JobBook) new JobManager.Snapshots(FULL_FEEDS).toJournal(book);
    List<JobEvent.Checkpointed> first = snapshot.getEventsList().stream()
        .filter(e -> e.getJobId().equals("j1") && e.hasCheckpointed()).map(JobEvent::getCheckpointed).toList();
    assertThat(first).hasSize(2).allSatisfy(c -> assertThat(c.getGenerationsCount()).isZero());
    assertThat(first).extracting(JobEvent.Checkpointed::getDroppedGenerations).containsExactly(3, 2);
    // Numbered past them: submitted, started and a phase (0 to 2), three generations, a commit (6),
    // two generations, a commit (9), the phase and the end.
    assertThat(book.get("j1").feedAfter(-1)).extracting(m -> m.get("seq")).containsExactly(0, 1, 2, 6, 9, 10, 11);
    assertThat(book.get("j1").feedAfter(6)).extracting(m -> m.get("seq")).containsExactly(9, 10, 11);
  }

  @Test
  void aSnapshotTakenWithFewerWholeFeedsKeepsWhatItLetGo() {
    List<JobEvent> journal = journal(false);
    int k = journal.size() - 1; // before j3 is cancelled: j1's generations are gone, j2's kept
    JobManager.Jobs before = replay(new JobManager.Jobs(FULL_FEEDS), journal.subList(0, k));
    JobManager.Snapshots more = new JobManager.Snapshots(3);
    JobManager.Jobs restored = replay(more.fromJournal(new JobManager.Snapshots(FULL_FEEDS).toJournal(before)),
        journal.subList(k, journal.size()));
    // With three whole feeds j2 keeps its generations; j1's stay gone, its entries numbered as they were.
    JobManager.Jobs whole = replay(new JobManager.Jobs(FULL_FEEDS), journal);
    assertThat(restored.get("j1").feedAfter(-1)).isEqualTo(whole.get("j1").feedAfter(-1));
    assertThat(restored.get("j1").view()).isEqualTo(whole.get("j1").view());
    assertThat(restored.get("j2").feedAfter(-1)).isEqualTo(replay(new JobManager.Jobs(3), journal).get("j2").feedAfter(-1))
        .anyMatch(m -> m.get("type").equals("generation"));
  }

  private static void assertSameBook(JobManager.Jobs actual, JobManager.Jobs expected, String as) {
    assertThat(actual.byId.keySet()).as(as).containsExactlyElementsOf(expected.byId.keySet());
    assertThat(actual.queue).as(as).containsExactlyElementsOf(expected.queue);
    assertThat(actual.history).as(as).isEqualTo(expected.history);
    assertThat(actual.finishedOrder).as(as).containsExactlyElementsOf(expected.finishedOrder);
    assertThat(actual.submitted).as(as).isEqualTo(expected.submitted);
    for (String id : expected.byId.keySet()) {
      assertThat(actual.get(id).view()).as(as + ", " + id).isEqualTo(expected.get(id).view());
      for (int after : new int[] {-1, 3, 9}) {
        assertThat(actual.get(id).feedAfter(after)).as(as + ", " + id + " after " + after)
            .isEqualTo(expected.get(id).feedAfter(after));
      }
    }
  }

  private static JobManager.Jobs replay(JobManager.Jobs jobs, List<JobEvent> events) {
    for (JobEvent e : events) {
      JobManager.apply(jobs, e);
    }
    return jobs;
  }

  /**
   * Three jobs, interleaved as a node's journal has them: j1 runs (two checkpoints, then its
   * outputs), j2 is submitted meanwhile and runs after it, j3 starts over after a restart (its
   * checkpoint unreadable) and is cancelled mid-search; {@code forgetting}, j1 is forgotten once j2
   * has finished.
   */
  private static List<JobEvent> journal(boolean forgetting) {
    List<JobEvent> events = new ArrayList<>();
    long[] at = {1_000};
    java.util.function.BiFunction<String, JobEvent.Builder, JobEvent> event = (id, b) ->
        b.setJobId(id).setAtMillis(at[0] += 7).build();
    for (String id : List.of("j1", "j2")) {
      events.add(event.apply(id, JobEvent.newBuilder().setSubmitted(spec(id))));
    }
    for (String id : List.of("j1", "j2")) {
      events.add(event.apply(id, JobEvent.newBuilder().setStarted(JobEvent.Started.newBuilder().setAttempt(1))));
      events.add(event.apply(id, JobEvent.newBuilder().setPhase("sparsifying")));
      events.add(event.apply(id, JobEvent.newBuilder().setCheckpointed(checkpoint(id, 1, 3))));
      if (id.equals("j2")) {
        events.add(event.apply("j3", JobEvent.newBuilder().setSubmitted(spec("j3"))));
      }
      events.add(event.apply(id, JobEvent.newBuilder().setCheckpointed(checkpoint(id, 2, 2))));
      events.add(event.apply(id, JobEvent.newBuilder().setPhase("finalizing")));
      events.add(event.apply(id, JobEvent.newBuilder().setSucceeded(JobEvent.Succeeded.newBuilder()
          .setArtifact(blob(id + ".evoc")).setFinalizedOn("pekko://evoc@127.0.0.1:2551"))));
    }
    if (forgetting) {
      events.add(event.apply("j1", JobEvent.newBuilder().setForgotten(JobEvent.Forgotten.newBuilder().addJobIds("j1"))));
    }
    events.add(event.apply("j3", JobEvent.newBuilder().setStarted(JobEvent.Started.newBuilder().setAttempt(1))));
    events.add(event.apply("j3", JobEvent.newBuilder().setCheckpointed(checkpoint("j3", 1, 4))));
    events.add(event.apply("j3", JobEvent.newBuilder().setStarted(JobEvent.Started.newBuilder().setAttempt(2)
        .setResumedCycle(1))));
    events.add(event.apply("j3", JobEvent.newBuilder().setStartedOver("cannot resume from the checkpoint")));
    events.add(event.apply("j3", JobEvent.newBuilder().setCheckpointed(checkpoint("j3", 1, 2))));
    events.add(event.apply("j3", JobEvent.newBuilder().setCancelled(JobEvent.Cancelled.getDefaultInstance())));
    return events;
  }

  private static JobSpec spec(String id) {
    return JobSpec.newBuilder().setModel(blob(id + ".onnx")).setCalib(blob(id + ".npz")).putSettings("seed", "7")
        .putSettings("sparsity", "0.9").build();
  }

  private static Blob blob(String name) {
    return Blob.newBuilder().setName(name).setSha256(Integer.toHexString(name.hashCode())).setBytes(name.length())
        .build();
  }

  /** A committed cycle with {@code generations} generations before it. */
  private static JobEvent.Checkpointed checkpoint(String id, int cycle, int generations) {
    JobEvent.Checkpointed.Builder c = JobEvent.Checkpointed.newBuilder().setCheckpoint(blob(id + "-" + cycle))
        .addTrace(TraceRecord.newBuilder().setCycle(cycle).setLayer("fc" + cycle).setCommitted(100 * cycle)
            .setLayerSparsity(0.3 * cycle).setSparsity(0.2 * cycle).setDivergence(0.01f * cycle));
    for (int g = 0; g < generations; g++) {
      c.addGenerations(JobEvent.GenerationRecord.newBuilder().setCycle(cycle).setLayer("fc" + cycle).setGeneration(g)
          .setBestDivergence(0.001f * (g + 1)).setCandidates(8).setAtMillis(2_000 + 10L * cycle + g));
    }
    return c.build();
  }
}
