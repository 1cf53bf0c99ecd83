package io.evoc.coordinator.server.jobs;

import io.evoc.coordinator.search.TraceEntry;
import io.evoc.protocol.jobs.JobEvent;
import io.evoc.protocol.jobs.JobSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One job as its persisted events left it: state, attempts, the latest committed cycle and the
 * checkpoint a restart resumes from; between checkpoints, the live progress of its search.
 */
public final class Job {
  public enum State {
    QUEUED,
    RUNNING,
    FINALIZING,
    SUCCEEDED,
    FAILED,
    CANCELLED;

    public boolean finished() {
      return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    public String lowerCase() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  final String id;
  final JobSpec spec;
  final long submittedMillis;
  State state = State.QUEUED;
  String phase = "queued";
  int attempt;
  long startedMillis;
  long finishedMillis;
  String error;
  JobEvent.Succeeded outputs;
  /** The last commit or distillation of the search; null before the first. */
  TraceEntry progress;
  /** The latest search checkpoint, while the job is unfinished; null before its first commit. */
  io.evoc.protocol.jobs.Blob checkpoint;
  /** The cycle that checkpoint was taken after. */
  int checkpointCycle;
  /** While finalizing: the node whose finalizer has the job; null while it waits for one. Not persisted. */
  String finalizingOn;
  /** The cycle the latest attempt resumed after (0: from the start). */
  int resumedCycle;
  /**
   * What the WebSocket streams, numbered from 0: the persisted history as it replays, then each
   * generation as it happens. Generations are persisted with the next checkpoint, so a restart
   * replays those of every committed cycle (those after the last checkpoint are searched again).
   */
  private final List<Map<String, Object>> feed = new ArrayList<>();
  /** The number the next feed entry takes. */
  private int nextSeq;
  /** False once the feed has dropped its generations: entries are then no longer numbered by position. */
  private boolean feedWhole = true;
  /** Each layer's sparsity as of its latest commit, by name. */
  final Map<String, Double> layerSparsity = new java.util.TreeMap<>();
  /** The search's latest generation: its cycle's best divergence so far. */
  JobEvent.GenerationRecord lastGeneration;
  /** Generations streamed live since the last checkpoint: its event carries them. Not persisted. */
  final List<JobEvent.GenerationRecord> unpersisted = new ArrayList<>();
  /** Where this job's checkpoint events are in the book's history, until its generations are let go of. */
  final List<Integer> checkpointsAt = new ArrayList<>();

  Job(String id, JobSpec spec, long submittedMillis) {
    this.id = id;
    this.spec = spec;
    this.submittedMillis = submittedMillis;
  }

  public String id() {
    return id;
  }

  public State state() {
    return state;
  }

  public JobEvent.Succeeded outputs() {
    return outputs;
  }

  /** A commit or distillation as the API shows it: in a job's view and in its feed. */
  static Map<String, Object> describe(TraceEntry e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cycle", e.cycle());
    m.put("layer", e.layer());
    m.put("committed", e.committed());
    m.put("restored", e.restored());
    m.put("distilled_epochs", e.distilled());
    m.put("layer_sparsity", e.layerSparsity());
    m.put("sparsity", e.sparsity());
    m.put("divergence", e.divergence());
    m.put("agreement", e.agreement());
    m.put("candidates_scored", e.candidatesScored());
    m.put("elapsed_ms", e.elapsedMillis());
    return m;
  }

  /** A generation as the API shows it: in a job's view and in its feed. */
  static Map<String, Object> describe(JobEvent.GenerationRecord g) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cycle", g.getCycle());
    m.put("layer", g.getLayer());
    m.put("generation", g.getGeneration());
    m.put("best_divergence", g.getBestDivergence());
    m.put("candidates", g.getCandidates());
    m.put("scoring_ms", g.getScoringNanos() / 1e6);
    m.put("candidates_scored", g.getCandidatesScored());
    m.put("elapsed_ms", g.getElapsedMillis());
    return m;
  }

  /** The feed's entries numbered above {@code after} (-1: all of them). */
  List<Map<String, Object>> feedAfter(int after) {
    int from = 0;
    if (feedWhole) { // entry i is numbered i
      from = Math.max(0, Math.min(feed.size(), after + 1));
    } else {
      while (from < feed.size() && (Integer) feed.get(from).get("seq") <= after) {
        from++;
      }
    }
    return List.copyOf(feed.subList(from, feed.size()));
  }

  /** Keeps every entry but the generations, each numbered as it was (see JobManager.Jobs#finished). */
  void dropGenerations() {
    feed.removeIf(m -> m.get("type").equals("generation"));
    feedWhole = false;
  }

  /** Numbers past {@code n} entries a snapshot let go of (generations: see {@link #dropGenerations}). */
  void skipEntries(int n) {
    if (n > 0) {
      nextSeq += n;
      feedWhole = false;
    }
  }

  /** Appends to the feed: {@code seq} and {@code type} first, then the fields. */
  void publish(String type, long atMillis, Map<String, Object> fields) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("seq", nextSeq++);
    m.put("job", id);
    m.put("type", type);
    m.put("at_ms", atMillis);
    m.putAll(fields);
    feed.add(m);
  }

  /** The job as the API shows it. */
  public Map<String, Object> view() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", id);
    m.put("state", state.lowerCase());
    m.put("phase", phase);
    m.put("attempt", attempt);
    m.put("resumed_cycle", resumedCycle);
    m.put("checkpoint_cycle", checkpoint == null ? null : checkpointCycle);
    m.put("settings", new java.util.TreeMap<>(spec.getSettingsMap()));
    m.put("model_sha256", spec.getModel().getSha256());
    m.put("submitted_ms", submittedMillis);
    m.put("started_ms", startedMillis == 0 ? null : startedMillis);
    m.put("finished_ms", finishedMillis == 0 ? null : finishedMillis);
    if (progress != null) {
      m.put("progress", describe(progress));
    }
    if (!layerSparsity.isEmpty()) {
      m.put("layer_sparsity", new LinkedHashMap<>(layerSparsity));
    }
    if (lastGeneration != null) {
      m.put("last_generation", describe(lastGeneration));
    }
    if (state == State.FINALIZING) {
      m.put("finalizing_on", finalizingOn);
    }
    if (error != null) {
      m.put("error", error);
    }
    if (outputs != null) {
      m.put("artifact_bytes", outputs.getArtifact().getBytes());
      m.put("artifact_sha256", outputs.getArtifact().getSha256());
      m.put("finalized_on", outputs.getFinalizedOn());
    }
    return m;
  }
}
