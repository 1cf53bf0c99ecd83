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
 * evaluator left the cluster, goes back to the front of the queue for another; an answer that
 * comes after its unit was answered is ignored; a unit an evaluator failed on is retried on
 * another, up to {@value #ATTEMPTS} times. Thread-safe: jobs submit from their worker threads,
 * evaluators' messages arrive through {@link WorkQueueActor}.
 */
public final class WorkQueue {
  static final int ATTEMPTS = 3;

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
    int attempts;

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
    long lastSeenMillis;

    Evaluator(ActorRef<EvaluatorMessage> ref, String device, String numerics) {
      this.ref = ref;
      this.device = device;
      this.numerics = numerics;
    }
  }

  /** An evaluator as {@code GET /api/v1/cluster} shows it. */
  public record EvaluatorView(String ref, String device, String numerics, long candidatesScored,
      double candidatesPerSecond, long lastSeenMillis) {}

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
   * @return a warning when this is an evaluator not seen before that computes differently from
   *     another one the queue has: which units each scores would then change the results
   */
  synchronized String request(WorkRequest r) {
    Evaluator e = evaluators.get(r.getEvaluator());
    String warning = null;
    if (e == null) {
      e = new Evaluator(resolve.apply(r.getEvaluator()), r.getDevice(), r.getNumerics());
      warning = mixedNumerics(r.getEvaluator(), e);
      evaluators.put(r.getEvaluator(), e);
    }
    e.credit += r.getCapacity();
    e.lastSeenMillis = System.currentTimeMillis();
    dispatch();
    return warning;
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

  /** @return the candidates or points it scored when it is the unit's answer; 0 otherwise */
  synchronized int result(WorkResult r) {
    Evaluator e = evaluators.get(r.getEvaluator());
    if (e != null) {
      e.lastSeenMillis = System.currentTimeMillis();
      e.scored += r.getDivergenceCount();
      e.nanos += r.getNanos();
    }
    Pending p = pending.get(r.getUnitId());
    if (p == null) {
      return 0; // answered already: a late duplicate
    }
    if (!r.getError().isEmpty()) {
      if (!r.getEvaluator().equals(p.evaluator)) {
        return 0; // the unit went to another evaluator meanwhile
      }
      if (p.attempts + 1 >= ATTEMPTS) {
        pending.remove(r.getUnitId());
        p.result.completeExceptionally(new IllegalStateException("work unit " + r.getUnitId() + " failed "
            + ATTEMPTS + " times; last: " + r.getError()));
      } else {
        requeue(p);
      }
      dispatch();
      return 0;
    }
    // The first answer wins, even from an evaluator the unit was taken from: scores are deterministic.
    pending.remove(r.getUnitId());
    waiting.remove(r.getUnitId());
    p.result.complete(r);
    return r.getDivergenceCount();
  }

  /** Units sent longer ago than the timeout go back to the front. */
  synchronized void tick() {
    long now = System.nanoTime();
    for (Pending p : pending.values()) {
      if (p.evaluator != null && now - p.sentNanos > timeoutNanos) {
        Evaluator e = evaluators.get(p.evaluator);
        if (e != null) {
          e.credit = 0; // it must ask again: a live but slow evaluator will, a dead one will not
        }
        requeue(p);
      }
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
      for (Pending p : pending.values()) {
        if (e.equals(p.evaluator)) {
          requeue(p);
        }
      }
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
          v.lastSeenMillis));
    }
    return out;
  }

  private void requeue(Pending p) {
    p.evaluator = null;
    p.attempts++;
    waiting.remove(p.unit.getUnitId());
    waiting.addFirst(p.unit.getUnitId());
  }

  private void dispatch() {
    while (!waiting.isEmpty()) {
      Evaluator target = null;
      String name = null;
      for (Map.Entry<String, Evaluator> e : evaluators.entrySet()) {
        if (e.getValue().credit > 0 && (target == null || e.getValue().credit > target.credit)) {
          target = e.getValue();
          name = e.getKey();
        }
      }
      if (target == null) {
        return;
      }
      Pending p = pending.get(waiting.pollFirst());
      if (p == null) {
        continue;
      }
      target.credit--;
      p.evaluator = name;
      p.sentNanos = System.nanoTime();
      target.ref.tell(EvaluatorMessage.newBuilder().setUnit(p.unit.toBuilder().setQueue(self)).build());
    }
  }
}
