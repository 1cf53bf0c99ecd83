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
 * One job as its persisted events left it, plus the latest search progress (not persisted: a
 * restarted job starts its search again and reports afresh).
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
  /**
   * What the WebSocket streams, numbered from 0: the persisted history as it replays, then each
   * generation and commit as it happens (those are kept in memory, not persisted).
   */
  final List<Map<String, Object>> feed = new ArrayList<>();

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

  /** Appends to the feed: {@code seq} and {@code type} first, then the fields. */
  void publish(String type, long atMillis, Map<String, Object> fields) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("seq", feed.size());
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
    m.put("settings", new java.util.TreeMap<>(spec.getSettingsMap()));
    m.put("model_sha256", spec.getModel().getSha256());
    m.put("submitted_ms", submittedMillis);
    m.put("started_ms", startedMillis == 0 ? null : startedMillis);
    m.put("finished_ms", finishedMillis == 0 ? null : finishedMillis);
    if (progress != null) {
      Map<String, Object> p = new LinkedHashMap<>();
      p.put("cycle", progress.cycle());
      p.put("layer", progress.layer());
      p.put("layer_sparsity", progress.layerSparsity());
      p.put("sparsity", progress.sparsity());
      p.put("divergence", progress.divergence());
      p.put("agreement", progress.agreement());
      p.put("candidates_scored", progress.candidatesScored());
      p.put("elapsed_ms", progress.elapsedMillis());
      m.put("progress", p);
    }
    if (error != null) {
      m.put("error", error);
    }
    if (outputs != null) {
      m.put("artifact_bytes", outputs.getArtifact().getBytes());
      m.put("artifact_sha256", outputs.getArtifact().getSha256());
    }
    return m;
  }
}
