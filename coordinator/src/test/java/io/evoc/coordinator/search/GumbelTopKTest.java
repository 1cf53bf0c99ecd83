package io.evoc.coordinator.search;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The evolution's draws compute few keys, yet take exactly the sets that computing every key takes,
 * and leave the generator where it would: checked against that direct computation.
 */
class GumbelTopKTest {

  /** Every key computed, every draw sorted: how the evolution drew its sets before. */
  private static int[] direct(int[] base, int need, int[] from, float[] logit, int[] slot, SplittableRandom random) {
    long[] keyed = new long[from.length];
    for (int j = 0; j < from.length; j++) {
      double u = random.nextDouble();
      double key = logit[slot[from[j]]] - Math.log(-Math.log(u + 1e-300) + 1e-300);
      keyed[j] = ((long) Pruning.sortable((float) -key) << 32) | (from[j] & 0xffffffffL);
    }
    Arrays.sort(keyed);
    int take = Math.min(need, from.length);
    int[] out = Arrays.copyOf(base, base.length + take);
    for (int j = 0; j < take; j++) {
      out[base.length + j] = (int) keyed[j];
    }
    Arrays.sort(out);
    return out;
  }

  /** The draws read only the first n of their buffer. */
  private static int[] padded(int[] from) {
    int[] out = Arrays.copyOf(from, from.length + 3);
    Arrays.fill(out, from.length, out.length, -1);
    return out;
  }

  @Test
  void takesTheSetsEveryKeyWouldGive() {
    SplittableRandom setup = new SplittableRandom(3);
    for (int trial = 0; trial < 300; trial++) {
      int poolSize = 1 + setup.nextInt(trial < 100 ? 60 : 5000);
      int size = poolSize + setup.nextInt(1000);
      float[] logit = new float[poolSize];
      int k = 1 + setup.nextInt(poolSize);
      for (int j = 0; j < poolSize; j++) {
        // The evolution's shape (rank and harm terms), some trials with many ties or a wide range.
        logit[j] = switch (trial % 4) {
          case 0 -> -3f * j / k - 2f * (float) setup.nextGaussian();
          case 1 -> (float) setup.nextInt(3);
          case 2 -> -3f * j / k - 16f * (float) setup.nextDouble();
          default -> 0f;
        };
      }
      int[] pool = setup.ints(0, size).distinct().limit(poolSize).toArray();
      poolSize = pool.length;
      logit = Arrays.copyOf(logit, poolSize);
      int[] slot = new int[size];
      Arrays.fill(slot, -1);
      for (int j = 0; j < poolSize; j++) {
        slot[pool[j]] = j;
      }
      int[] sortedPool = pool.clone();
      Arrays.sort(sortedPool);
      // base: some pool weights; from: the rest, or part of it
      int baseSize = setup.nextInt(poolSize);
      int[] base = Arrays.copyOf(sortedPool, baseSize);
      int[] from = Arrays.stream(sortedPool, baseSize, poolSize).filter(x -> setup.nextInt(4) != 0).toArray();
      int need = 1 + setup.nextInt(Math.max(1, from.length + 2));

      GumbelTopK draws = new GumbelTopK(logit, slot);
      draws.refresh();
      long seed = setup.nextLong();
      SplittableRandom a = new SplittableRandom(seed);
      SplittableRandom b = new SplittableRandom(seed);
      int[] fast = draws.sample(base, need, padded(from), from.length, a);
      int[] reference = direct(base, need, from, logit, slot, b);
      assertThat(fast).as("trial %d: pool %d, base %d, from %d, need %d", trial, poolSize, baseSize, from.length, need)
          .containsExactly(reference);
      assertThat(a.nextLong()).as("the generator is left where the direct draw leaves it").isEqualTo(b.nextLong());
      // The scratch is clean for the next draw.
      assertThat(draws.sample(base, need, padded(from), from.length, a)).containsExactly(direct(base, need, from, logit, slot, b));
    }
  }
}
