package io.evoc.coordinator.server.cluster;

import io.evoc.protocol.cluster.EvaluatorMessage;
import io.evoc.protocol.cluster.WorkRequest;
import io.evoc.protocol.cluster.WorkResult;
import io.evoc.protocol.cluster.WorkUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;

/**
 * The coordinator's queue of work units. Evaluators pull: each request adds credit, and a unit
 * goes only to an evaluator with credit. A unit not answered within the timeout, or whose
 * evaluator left the cluster, goes back to the front of the queue for another (up to
 * {@value #LOSSES} times); an answer that comes after its unit was answered is ignored.
 *
 * <p>A unit an evaluator failed on goes to another evaluator where there is one, and fails its job
 * after {@value #ATTEMPTS} failures. An evaluator that fails {@value #FAILING_AFTER} units in a row
 * (one that cannot fetch the job's files, say) is failing: while another evaluator can take the
 * work, it gets none until a minute has passed since its last failure. So one broken node slows
 * the jobs down instead of failing them, and a job whose units fail everywhere still ends.
 *
 * <p>Thread-safe: jobs submit from their worker threads, evaluators' messages arrive through
 * {@link WorkQueueActor}.
 */
public final class WorkQueue {
  /** Failures of a unit, on any evaluators, that fail it. */
  static final int ATTEMPTS = 3;
  /** Times a unit may be lost (timed out, its evaluator gone) before it fails. */
  static final int LOSSES = 10;
  /** Failures in a row that make an evaluator failing. */
  static final int FAILING_AFTER = 3;
  /** How long after its last failure a failing evaluator is passed over. */
  static final long FAILING_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(1);

  private final long timeoutNanos;
  private final Function<String, ActorRef<EvaluatorMessage>> resolve;
  /** This queue's actor reference, serialized: units carry it so that results come back here. */
  private volatile String self = "";
  private final Deque<String> waiting = new ArrayDeque<>();
  private final Map<String, Pending> pending = new LinkedHashMap<>();
  /** Evaluators by their serialized reference, in name order: units go round-robin over them. */
  private final Map<String, Evaluator> evaluators = new TreeMap<>();
  /** The evaluators the Receptionist listed last. */
  private final Set<String> listed = new java.util.HashSet<>();
  private long ids;

  private static final class Pending {
    final WorkUnit unit;
    final CompletableFuture<WorkResult> result = new CompletableFuture<>();
    String evaluator;
    long sentNanos;
    int errors;
    int losses;
    /** Evaluators that failed on it: it goes to others while there are any. */
    final Set<String> failedOn = new java.util.HashSet<>();

    Pending(WorkUnit unit) {
      this.unit = unit;
    }
  }

  /** What the queue knows of an evaluator: its credit and what it has done. */
  private static final class Evaluator {
    final ActorRef<EvaluatorMessage> ref;
    final String device;
    final String numerics;
    int credit;
    long scored;
    long nanos;
    final RecentRate recent = new RecentRate(nowSecond());
    long lastSeenMillis;
    int failuresInARow;
    long lastFailureNanos;
    String lastError = "";

    Evaluator(ActorRef<EvaluatorMessage> ref, String device, String numerics) {
      this.ref = ref;
      this.device = device;
      this.numerics = numerics;
    }

    boolean failing(long now) {
      return failuresInARow >= FAILING_AFTER && now - lastFailureNanos < FAILING_NANOS;
    }
  }

  /**
   * An evaluator as {@code GET /api/v1/cluster} shows it.
   *
   * @param candidatesPerSecond while busy: candidates scored over the time spent scoring them, since it joined
   * @param recentPerSecond candidates scored over the last minute of wall time (since it joined, when sooner)
   * @param failing passed over for work (see the class comment)
   * @param lastError its last unit's error while it fails in a row; empty otherwise
   */
  public record EvaluatorView(String ref, String device, String numerics, long candidatesScored,
      double candidatesPerSecond, double recentPerSecond, long lastSeenMillis, boolean failing, String lastError) {}

  private static long nowSecond() {
    return Math.floorDiv(System.nanoTime(), 1_000_000_000L); // nanoTime may be negative
  }

  /** Warnings for the log, collected under the lock and taken by the actor. */
  private final List<String> warnings = new ArrayList<>();

  /**
   * @param resolve an evaluator's serialized actor reference to the reference
   */
  public WorkQueue(java.time.Duration timeout, Function<String, ActorRef<EvaluatorMessage>> resolve) {
    this.timeoutNanos = timeout.toNanos();
    this.resolve = resolve;
  }

  void self(String ref) {
    self = ref;
  }

  /** Queues units; each future completes with its unit's result, or fails after its last attempt. */
  public synchronized List<CompletableFuture<WorkResult>> submit(List<WorkUnit> batch) {
    List<CompletableFuture<WorkResult>> out = new ArrayList<>(batch.size());
    for (WorkUnit u : batch) {
      Pending p = new Pending(u);
      pending.put(u.getUnitId(), p);
      waiting.addLast(u.getUnitId());
      out.add(p.result);
    }
    dispatch();
    return out;
  }

  /** Queues one unit, which goes out at once to an evaluator with credit. */
  public CompletableFuture<WorkResult> submit(WorkUnit unit) {
    return submit(List.of(unit)).get(0);
  }

  /** Sends a preparation (a unit without candidates, not answered) to every evaluator known. */
  public synchronized void broadcast(WorkUnit unit) {
    EvaluatorMessage m = EvaluatorMessage.newBuilder().setPrepare(unit).build();
    evaluators.values().forEach(e -> e.ref.tell(m));
  }

  /** A new id for a unit: unique within this queue's life. */
  public synchronized String nextId(String job) {
    return job + "/" + ids++;
  }

  /**
   * Adds the evaluator's credit. An evaluator not seen before that computes differently from
   * another one the queue has leaves a warning ({@link #takeWarnings}): which units each scores
   * would then change the results.
   */
  synchronized void request(WorkRequest r) {
    Evaluator e = evaluators.get(r.getEvaluator());
    if (e == null) {
      e = new Evaluator(resolve.apply(r.getEvaluator()), r.getDevice(), r.getNumerics());
      String mixed = mixedNumerics(r.getEvaluator(), e);
      if (mixed != null) {
        warnings.add(mixed);
      }
      evaluators.put(r.getEvaluator(), e);
    }
    e.credit += r.getCapacity();
    e.lastSeenMillis = System.currentTimeMillis();
    dispatch();
  }

  /** What happened since the last call that the log should say. */
  synchronized List<String> takeWarnings() {
    List<String> out = List.copyOf(warnings);
    warnings.clear();
    return out;
  }

  private String mixedNumerics(String ref, Evaluator added) {
    for (Map.Entry<String, Evaluator> other : evaluators.entrySet()) {
      if (!other.getValue().numerics.equals(added.numerics)) {
        return "evaluator " + ref + " (" + added.device + ": " + added.numerics + ") computes differently from "
            + other.getKey() + " (" + other.getValue().device + ": " + other.getValue().numerics
            + "): scores, and so results, can depend on which of them scores what";
      }
    }
    return null;
  }

  /** A unit's answer as the metrics count it: who scored how many. */
  public record Scored(String evaluator, String device, int count) {}

  /**
   * An evaluator as the metrics name it, stable across its node's restarts: its node's address and
   * its index there ({@code 10.0.0.5:2552/0}), from its reference without scheme, system name or uid.
   */
  public static String label(String ref) {
    return ref.replaceFirst("^[a-z]+://[^@/]*@", "").replaceFirst("#-?\\d+$", "")
        .replaceFirst("/system/evaluators/", "/");
  }

  /**
   * @return the candidates or points the answer scored (0 unless it is the unit's answer) and by
   *     whom
   */
  synchronized Scored result(WorkResult r) {
    Evaluator e = evaluators.get(r.getEvaluator());
    return new Scored(label(r.getEvaluator()), e == null ? "" : e.device, answer(r, e));
  }

  private int answer(WorkResult r, Evaluator e) {
    if (e != null) {
      e.lastSeenMillis = System.currentTimeMillis();
      e.scored += r.getDivergenceCount();
      e.nanos += r.getNanos();
      e.recent.add(r.getDivergenceCount(), nowSecond());
    }
    Pending p = pending.get(r.getUnitId());
    if (p == null) {
      return 0; // answered already: a late duplicate
    }
    if (!r.getError().isEmpty()) {
      if (!r.getEvaluator().equals(p.evaluator)) {
        return 0; // the unit went to another evaluator meanwhile
      }
      failed(r.getEvaluator(), e, r.getError());
      p.errors++;
      p.failedOn.add(r.getEvaluator());
      if (p.errors >= ATTEMPTS) {
        fail(p, "failed " + p.errors + " times, on " + p.failedOn.size() + " evaluator"
            + (p.failedOn.size() == 1 ? "" : "s") + "; last: " + r.getError());
      } else {
        requeue(p);
      }
      dispatch();
      return 0;
    }
    if (e != null) {
      e.failuresInARow = 0;
      e.lastError = "";
    }
    // The first answer wins, even from an evaluator the unit was taken from: scores are deterministic.
    pending.remove(r.getUnitId());
    waiting.remove(r.getUnitId());
    p.result.complete(r);
    return r.getDivergenceCount();
  }

  private void failed(String name, Evaluator e, String error) {
    if (e == null) {
      return;
    }
    e.failuresInARow++;
    e.lastFailureNanos = System.nanoTime();
    e.lastError = error;
    if (e.failuresInARow == FAILING_AFTER) {
      warnings.add("evaluator " + name + " (" + e.device + ") failed " + FAILING_AFTER + " units in a row (last: "
          + error + "): it gets work only when no other evaluator can take it, until a minute after its last failure");
    }
  }

  private void fail(Pending p, String why) {
    pending.remove(p.unit.getUnitId());
    waiting.remove(p.unit.getUnitId());
    p.result.completeExceptionally(new IllegalStateException("work unit " + p.unit.getUnitId() + " " + why));
  }

  /** Units sent longer ago than the timeout go back to the front. */
  synchronized void tick() {
    long now = System.nanoTime();
    List<Pending> late = pending.values().stream()
        .filter(p -> p.evaluator != null && now - p.sentNanos > timeoutNanos).toList();
    for (Pending p : late) {
      Evaluator e = evaluators.get(p.evaluator);
      if (e != null) {
        e.credit = 0; // it must ask again: a live but slow evaluator will, a dead one will not
      }
      lost(p);
    }
    dispatch();
  }

  /** The evaluators registered in the cluster now: those gone lose their units to the others. */
  synchronized void registered(Set<String> present) {
    // Only those once listed and now not: registration spreads through the cluster after an
    // evaluator's first request may already have arrived.
    List<String> gone = listed.stream().filter(e -> !present.contains(e)).toList();
    listed.clear();
    listed.addAll(present);
    for (String e : gone) {
      evaluators.remove(e);
      pending.values().stream().filter(p -> e.equals(p.evaluator)).toList().forEach(this::lost);
    }
    dispatch();
  }

  /** Evaluators that have asked for work and not left. */
  public synchronized int evaluatorCount() {
    return evaluators.size();
  }

  /**
   * Whether the evaluators are alike: the same kind of device ("cpu", or "gpu" whatever its index)
   * computing the same way. Alike evaluators are taken to score at the same speed.
   */
  public synchronized boolean evaluatorsAlike() {
    return evaluators.values().stream().map(e -> e.device.replaceFirst(":.*", "") + " " + e.numerics).distinct()
        .count() <= 1;
  }

  public synchronized int depth() {
    return waiting.size();
  }

  public synchronized List<EvaluatorView> evaluators() {
    List<EvaluatorView> out = new ArrayList<>();
    for (Map.Entry<String, Evaluator> e : evaluators.entrySet()) {
      Evaluator v = e.getValue();
      out.add(new EvaluatorView(e.getKey(), v.device, v.numerics, v.scored, v.nanos == 0 ? 0 : v.scored / (v.nanos / 1e9),
          v.recent.perSecond(nowSecond()), v.lastSeenMillis, v.failing(System.nanoTime()), v.lastError));
    }
    return out;
  }

  /** Timed out, or its evaluator left: back to the front, or failed when that happened too often. */
  private void lost(Pending p) {
    if (++p.losses > LOSSES) {
      fail(p, "was lost " + p.losses + " times (its evaluators timed out or left the cluster)");
    } else {
      requeue(p);
    }
  }

  private void requeue(Pending p) {
    p.evaluator = null;
    waiting.remove(p.unit.getUnitId());
    waiting.addFirst(p.unit.getUnitId());
  }

  /** Units in queue order, each to the evaluator with the most credit among those it should go to. */
  private void dispatch() {
    long now = System.nanoTime();
    for (var it = waiting.iterator(); it.hasNext() && evaluators.values().stream().anyMatch(e -> e.credit > 0); ) {
      Pending p = pending.get(it.next());
      if (p == null) {
        it.remove();
        continue;
      }
      String name = target(p, now);
      if (name == null) {
        continue; // it waits for an evaluator it should go to
      }
      it.remove();
      Evaluator target = evaluators.get(name);
      target.credit--;
      p.evaluator = name;
      p.sentNanos = now;
      target.ref.tell(EvaluatorMessage.newBuilder().setUnit(p.unit.toBuilder().setQueue(self)).build());
    }
  }

  /**
   * The evaluator with credit and the most of it among the best ranked for the unit, or none: an
   * evaluator that failed on the unit ranks below one that did not, and a failing one below one
   * that is not. A unit whose best-ranked evaluators have no credit waits for them.
   */
  private String target(Pending p, long now) {
    int best = Integer.MAX_VALUE;
    for (Map.Entry<String, Evaluator> e : evaluators.entrySet()) {
      best = Math.min(best, rank(p, e.getKey(), e.getValue(), now));
    }
    String name = null;
    int credit = 0;
    for (Map.Entry<String, Evaluator> e : evaluators.entrySet()) {
      if (e.getValue().credit > credit && rank(p, e.getKey(), e.getValue(), now) == best) {
        name = e.getKey();
        credit = e.getValue().credit;
      }
    }
    return name;
  }

  private static int rank(Pending p, String name, Evaluator e, long now) {
    return (p.failedOn.contains(name) ? 2 : 0) + (e.failing(now) ? 1 : 0);
  }
}
