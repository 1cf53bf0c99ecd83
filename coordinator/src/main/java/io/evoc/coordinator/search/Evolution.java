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
    refreshLogits();
  }

  /** Low prior rank and low estimated harm make a pool weight likely to be drawn. */
  private void refreshLogits() {
    for (int j = 0; j < pool.length; j++) {
      int i = pool[j];
      logit[j] = -RANK_WEIGHT * j / k - HARM_WEIGHT * (seen[i] > 0 ? harm[i] / seen[i] : 0f);
    }
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
    while (fresh.size() < population) {
      fresh.add(sample(new int[0], poolByIndex));
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
    int[] shared = intersect(a, b);
    int[] either = difference(union(a, b), shared);
    return sample(shared, either);
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
    int[] rest = Arrays.copyOfRange(kept, m, kept.length);
    Arrays.sort(rest);
    return sample(rest, difference(poolByIndex, rest));
  }

  /** {@code base} plus k - |base| weights from {@code from}, by Gumbel-top-k on the pool logits. */
  private int[] sample(int[] base, int[] from) {
    int need = k - base.length;
    if (need <= 0) {
      return sorted(Arrays.copyOf(base, k));
    }
    long[] keyed = new long[from.length];
    for (int j = 0; j < from.length; j++) {
      double u = random.nextDouble();
      double key = logit[slot[from[j]]] - Math.log(-Math.log(u + 1e-300) + 1e-300);
      // Sort descending by key: order-preserving bits of -key in the high half, index in the low.
      keyed[j] = ((long) Pruning.sortable((float) -key) << 32) | (from[j] & 0xffffffffL);
    }
    int take = Math.min(need, from.length);
    // Only which keys are the smallest matters (the set is sorted by index below): a selection,
    // not a sort of the whole pool, which took half the search's time on the MLP.
    selectSmallest(keyed, take);
    int[] out = Arrays.copyOf(base, base.length + take);
    for (int j = 0; j < out.length - base.length; j++) {
      out[base.length + j] = (int) keyed[j];
    }
    return sorted(out);
  }

  private int[] greedy() {
    Integer[] order = new Integer[pool.length];
    for (int j = 0; j < order.length; j++) {
      order[j] = j;
    }
    Arrays.sort(order, (x, y) -> Float.compare(logit[y], logit[x]));
    int[] out = new int[Math.min(k, pool.length)];
    for (int j = 0; j < out.length; j++) {
      out[j] = pool[order[j]];
    }
    return out;
  }

  /**
   * Moves the n smallest values of {@code a} (all distinct) into {@code a[0, n)}, in no particular
   * order: quickselect with a median-of-three pivot, linear on average (the keys here are random).
   */
  static void selectSmallest(long[] a, int n) {
    int lo = 0;
    int hi = a.length - 1;
    int target = n - 1;
    while (n > 0 && n < a.length && lo < hi) {
      int mid = (lo + hi) >>> 1;
      long pivot = Math.max(Math.min(a[lo], a[mid]), Math.min(Math.max(a[lo], a[mid]), a[hi]));
      int i = lo;
      int j = hi;
      while (i <= j) {
        while (a[i] < pivot) {
          i++;
        }
        while (a[j] > pivot) {
          j--;
        }
        if (i <= j) {
          long t = a[i];
          a[i++] = a[j];
          a[j--] = t;
        }
      }
      if (target <= j) {
        hi = j;
      } else if (target >= i) {
        lo = i;
      } else {
        return;
      }
    }
  }

  private static int[] sorted(int[] a) {
    Arrays.sort(a);
    return a;
  }

  static int[] intersect(int[] a, int[] b) {
    int[] out = new int[Math.min(a.length, b.length)];
    int i = 0;
    int j = 0;
    int n = 0;
    while (i < a.length && j < b.length) {
      if (a[i] == b[j]) {
        out[n++] = a[i];
        i++;
        j++;
      } else if (a[i] < b[j]) {
        i++;
      } else {
        j++;
      }
    }
    return Arrays.copyOf(out, n);
  }

  static int[] union(int[] a, int[] b) {
    int[] out = new int[a.length + b.length];
    int i = 0;
    int j = 0;
    int n = 0;
    while (i < a.length || j < b.length) {
      if (j >= b.length || i < a.length && a[i] < b[j]) {
        out[n++] = a[i++];
      } else if (i >= a.length || b[j] < a[i]) {
        out[n++] = b[j++];
      } else {
        out[n++] = a[i];
        i++;
        j++;
      }
    }
    return Arrays.copyOf(out, n);
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
