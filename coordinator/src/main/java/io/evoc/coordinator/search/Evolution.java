package io.evoc.coordinator.search;

import io.evoc.evaluator.scoring.CandidateScoring;
import io.evoc.evaluator.scoring.CandidateScorer.Scores;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/**
 * One cycle of directed evolution in one layer: a population of candidate sets of k surviving
 * weights evolves for a few generations and the fittest set (lowest divergence) is returned.
 *
 * <p>Directed, not enumerating: candidates are drawn from a pool of the survivors with the lowest
 * prior cost (the curvature estimate of what zeroing each alone costs, which favours small
 * magnitudes), with Gumbel-top-k sampling whose logits favour low rank and low estimated harm;
 * every scored candidate updates the harm estimate of its members. The prior ignores how zeroed
 * weights interact; the scored sets do not, which is what the evolution adds.
 * Elitist selection, crossover that keeps the members both parents share and fills the rest from
 * either, mutation that swaps members for other pool weights. All randomness comes from the
 * cycle's own generator, in a fixed order: the same seed gives the same sets.
 */
final class Evolution {
  /** The pool is this many times the step: wide enough to explore, narrow enough to stay directed. */
  private static final int POOL_FACTOR = 4;
  /** Logit lost per step-length of prior rank. */
  private static final float RANK_WEIGHT = 3f;
  /** Logit lost per unit of estimated harm (standardized fitness). */
  private static final float HARM_WEIGHT = 2f;

  /** What a candidate does to its members. */
  enum Move {
    /** Zero surviving weights (the search). */
    ZERO,
    /** Give pruned weights back their original values (refinement). */
    RESTORE
  }

  private final CandidateScoring scorer;
  private final LayerState state;
  private final Move move;
  private final float[] harm;
  private final float[] seen;
  private final int k;
  private final int population;
  private final SplittableRandom random;
  private final int[] pool;
  /** The pool in index order, as set operations take it. */
  private final int[] poolByIndex;
  private final float[] logit;
  /** Position in the pool of each weight index, -1 outside it. */
  private final int[] slot;
  private final GumbelTopK draws;
  /** What a set is drawn from (pool weights in index order), built anew for each draw. */
  private final int[] from;
  /** Per weight index, cleared after each use: the members a mutation keeps. */
  private final boolean[] member;
  private long scored;

  record Result(int[] best, float divergence, float agreement, long scored) {}

  private record Member(int[] set, float divergence, float agreement) {}

  /**
   * @param priorCost per weight, lower = more likely harmless (only the weights the move applies to
   *     are read)
   */
  Evolution(CandidateScoring scorer, LayerState state, Move move, float[] priorCost, int k, int population,
      SplittableRandom random) {
    this.scorer = scorer;
    this.state = state;
    this.move = move;
    this.harm = move == Move.ZERO ? state.harm : state.restoreHarm;
    this.seen = move == Move.ZERO ? state.seen : state.restoreSeen;
    this.k = k;
    this.population = population;
    this.random = random;
    int[] eligible = move == Move.ZERO ? state.survivors() : state.restorable();
    int poolSize = Math.min(eligible.length, Math.max(POOL_FACTOR * k, k + population));
    this.pool = Pruning.ranked(eligible, priorCost, poolSize);
    this.poolByIndex = sorted(pool.clone());
    this.slot = new int[state.size];
    Arrays.fill(slot, -1);
    this.logit = new float[pool.length];
    for (int j = 0; j < pool.length; j++) {
      slot[pool[j]] = j;
    }
    this.draws = new GumbelTopK(logit, slot);
    this.from = new int[pool.length];
    this.member = new boolean[state.size];
    refreshLogits();
  }

  /** Low prior rank and low estimated harm make a pool weight likely to be drawn. */
  private void refreshLogits() {
    for (int j = 0; j < pool.length; j++) {
      int i = pool[j];
      logit[j] = -RANK_WEIGHT * j / k - HARM_WEIGHT * (seen[i] > 0 ? harm[i] / seen[i] : 0f);
    }
    draws.refresh();
  }

  /** Told of each generation once it is scored. */
  @FunctionalInterface
  interface Observer {
    Observer NONE = (generation, best, candidates, nanos) -> { };

    void generation(int generation, float best, int candidates, long scoringNanos);
  }

  Result run(int generations, BooleanSupplier stop) {
    return run(generations, stop, Observer.NONE);
  }

  Result run(int generations, BooleanSupplier stop, Observer observer) {
    List<int[]> fresh = new ArrayList<>(population);
    fresh.add(sorted(greedy()));
    System.arraycopy(poolByIndex, 0, from, 0, poolByIndex.length); // the draws only read it
    while (fresh.size() < population) {
      fresh.add(sample(new int[0], poolByIndex.length));
    }
    List<Member> members = new ArrayList<>();
    for (int g = 0; g < generations; g++) {
      long start = System.nanoTime();
      members.addAll(score(fresh));
      members.sort((a, b) -> Float.compare(a.divergence, b.divergence));
      observer.generation(g, members.get(0).divergence, fresh.size(), System.nanoTime() - start);
      if (g == generations - 1 || stop.getAsBoolean()) {
        break;
      }
      int elites = Math.max(1, population / 4);
      List<Member> next = new ArrayList<>(members.subList(0, Math.min(elites, members.size())));
      fresh = new ArrayList<>();
      while (next.size() + fresh.size() < population) {
        int[] a = tournament(members).set;
        int[] b = tournament(members).set;
        fresh.add(mutate(crossover(a, b)));
      }
      members = next;
    }
    Member best = members.get(0);
    return new Result(best.set, best.divergence, best.agreement, scored);
  }

  private List<Member> score(List<int[]> sets) {
    Scores s = scorer.score(state.layer, sets, move == Move.ZERO ? null : state.original);
    scored += sets.size();
    learn(sets, s.divergence());
    List<Member> out = new ArrayList<>(sets.size());
    for (int p = 0; p < sets.size(); p++) {
      out.add(new Member(sets.get(p), s.divergence()[p], s.agreement()[p]));
    }
    return out;
  }

  /** Credits each member weight with its candidate's standardized fitness; refreshes pool logits. */
  private void learn(List<int[]> sets, float[] divergence) {
    double mean = 0;
    for (float d : divergence) {
      mean += d;
    }
    mean /= divergence.length;
    double var = 0;
    for (float d : divergence) {
      var += (d - mean) * (d - mean);
    }
    double sd = Math.sqrt(var / divergence.length);
    if (!(sd > 0)) {
      return;
    }
    for (int p = 0; p < sets.size(); p++) {
      float z = (float) ((divergence[p] - mean) / sd);
      for (int i : sets.get(p)) {
        harm[i] += z;
        seen[i] += 1;
      }
    }
    refreshLogits();
  }

  private Member tournament(List<Member> members) {
    Member a = members.get(random.nextInt(members.size()));
    Member b = members.get(random.nextInt(members.size()));
    return a.divergence <= b.divergence ? a : b;
  }

  /** Members both parents hold are kept; the rest is drawn from either parent's others. */
  private int[] crossover(int[] a, int[] b) {
    // One merge of the two sorted sets: what both hold, and (into the scratch) what one holds.
    int[] shared = new int[Math.min(a.length, b.length)];
    int s = 0;
    int e = 0;
    for (int i = 0, j = 0; i < a.length || j < b.length; ) {
      if (j >= b.length || i < a.length && a[i] < b[j]) {
        from[e++] = a[i++];
      } else if (i >= a.length || b[j] < a[i]) {
        from[e++] = b[j++];
      } else {
        shared[s++] = a[i];
        i++;
        j++;
      }
    }
    return sample(Arrays.copyOf(shared, s), e);
  }

  /** Swaps about 5% of the members for other pool weights. */
  private int[] mutate(int[] set) {
    int m = Math.max(1, k / 20);
    int[] kept = set.clone();
    for (int i = 0; i < m && i < kept.length; i++) {
      int j = i + random.nextInt(kept.length - i);
      int t = kept[i];
      kept[i] = kept[j];
      kept[j] = t;
    }
    // The set is sorted: the members left are it less the m drawn out, no sort of the rest needed.
    int[] rest = difference(set, sorted(Arrays.copyOf(kept, Math.min(m, kept.length))));
    for (int x : rest) {
      member[x] = true;
    }
    int n = 0;
    for (int x : poolByIndex) { // the pool less the rest, into the scratch
      from[n] = x;
      n += member[x] ? 0 : 1;
    }
    for (int x : rest) {
      member[x] = false;
    }
    return sample(rest, n);
  }

  /**
   * {@code base} plus k - |base| weights from {@code from[0, n)}, by Gumbel-top-k on the pool
   * logits.
   */
  private int[] sample(int[] base, int n) {
    int need = k - base.length;
    if (need <= 0) {
      return sorted(Arrays.copyOf(base, k));
    }
    return draws.sample(base, need, from, n, random);
  }

  /** The k pool weights of highest logit, ties by pool order. */
  private int[] greedy() {
    long[] keyed = new long[pool.length];
    for (int j = 0; j < pool.length; j++) {
      keyed[j] = ((long) ~Pruning.sortable(logit[j]) << 32) | j; // descending logit, then ascending slot
    }
    Arrays.sort(keyed);
    int[] out = new int[Math.min(k, pool.length)];
    for (int j = 0; j < out.length; j++) {
      out[j] = pool[(int) keyed[j]];
    }
    return out;
  }

  private static int[] sorted(int[] a) {
    Arrays.sort(a);
    return a;
  }

  static int[] difference(int[] a, int[] b) {
    int[] out = new int[a.length];
    int j = 0;
    int n = 0;
    for (int x : a) {
      while (j < b.length && b[j] < x) {
        j++;
      }
      if (j >= b.length || b[j] != x) {
        out[n++] = x;
      }
    }
    return Arrays.copyOf(out, n);
  }
}
