package io.evoc.protocol.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RansTest {
  private static final Rans.Context ORDER0 = (symbols, i) -> 0;
  /** The previous symbol as context, as a sparsity mask's significance flags use it. */
  private static final Rans.Context PREVIOUS = (symbols, i) -> i == 0 ? 0 : symbols[i - 1];

  @Test
  void roundTripsWithinAFractionOfAPercentOfTheEntropy() {
    SplittableRandom random = new SplittableRandom(1);
    double[] p = {0.5, 0.2, 0.12, 0.08, 0.05, 0.03, 0.015, 0.005, 0.004, 0.001};
    int[] symbols = new int[1_000_000];
    for (int i = 0; i < symbols.length; i++) {
      double u = random.nextDouble();
      int s = 0;
      while (s < p.length - 1 && (u -= p[s]) > 0) {
        s++;
      }
      symbols[i] = s;
    }
    long[] counts = counts(symbols, p.length);
    Frequencies[] model = {Frequencies.fromCounts(counts)};
    byte[] coded = Rans.encode(symbols, model, ORDER0);
    assertThat(Rans.decode(coded, symbols.length, model, ORDER0)).isEqualTo(symbols);
    double entropyBytes = entropyBits(counts) / 8;
    assertThat(coded.length).isLessThan((int) (entropyBytes * 1.005) + 8);
    assertThat((double) coded.length).isGreaterThan(entropyBytes);
  }

  @Test
  void contextsCodeEachSymbolWithTheModelItsPredecessorSelects() {
    // A mask of long runs: order 0 needs ~0.47 bits per flag, the previous flag as context far less.
    SplittableRandom random = new SplittableRandom(2);
    int[] flags = new int[200_000];
    for (int i = 1; i < flags.length; i++) {
      flags[i] = random.nextDouble() < 0.02 ? 1 - flags[i - 1] : flags[i - 1];
    }
    long[][] counts = new long[2][2];
    for (int i = 0; i < flags.length; i++) {
      counts[PREVIOUS.of(flags, i)][flags[i]]++;
    }
    Frequencies[] models = {Frequencies.fromCounts(counts[0]), Frequencies.fromCounts(counts[1])};
    byte[] coded = Rans.encode(flags, models, PREVIOUS);
    assertThat(Rans.decode(coded, flags.length, models, PREVIOUS)).isEqualTo(flags);
    double contextual = (entropyBits(counts[0]) + entropyBits(counts[1])) / 8;
    assertThat(coded.length).isLessThan((int) (contextual * 1.01) + 8);
    assertThat(contextual).isLessThan(entropyBits(counts(flags, 2)) / 8 / 3);
  }

  @Test
  void edgeCasesRoundTrip() {
    Frequencies[] single = {Frequencies.fromCounts(new long[] {0, 5, 0})};
    int[] ones = {1, 1, 1, 1, 1};
    assertThat(Rans.decode(Rans.encode(ones, single, ORDER0), 5, single, ORDER0)).isEqualTo(ones);
    assertThat(Rans.decode(Rans.encode(new int[0], single, ORDER0), 0, single, ORDER0)).isEmpty();
    Frequencies[] wide = {Frequencies.fromCounts(uniform(Rans.MAX_SYMBOLS))};
    int[] all = new int[Rans.MAX_SYMBOLS];
    for (int i = 0; i < all.length; i++) {
      all[i] = all.length - 1 - i;
    }
    assertThat(Rans.decode(Rans.encode(all, wide, ORDER0), all.length, wide, ORDER0)).isEqualTo(all);
    assertThatThrownBy(() -> Rans.encode(new int[] {0}, single, ORDER0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("symbol 0");
  }

  @Test
  void damagedStreamsAreRefusedNeverMisread() {
    SplittableRandom random = new SplittableRandom(3);
    int[] symbols = new int[5000];
    for (int i = 0; i < symbols.length; i++) {
      symbols[i] = random.nextInt(16) < 12 ? 0 : random.nextInt(16);
    }
    Frequencies[] model = {Frequencies.fromCounts(counts(symbols, 16))};
    byte[] coded = Rans.encode(symbols, model, ORDER0);
    assertThatThrownBy(() -> Rans.decode(java.util.Arrays.copyOf(coded, coded.length - 1), symbols.length, model,
        ORDER0)).isInstanceOf(CodecException.class);
    assertThatThrownBy(() -> Rans.decode(java.util.Arrays.copyOf(coded, coded.length + 1), symbols.length, model,
        ORDER0)).isInstanceOf(CodecException.class).hasMessageContaining("damaged");
    assertThatThrownBy(() -> Rans.decode(coded, symbols.length + 1, model, ORDER0)).isInstanceOf(CodecException.class);
    assertThatThrownBy(() -> Rans.decode(new byte[3], 1, model, ORDER0)).isInstanceOf(CodecException.class);
    // Single flipped bits: nearly always caught by the final state; never an exception of another kind.
    int caught = 0;
    for (int t = 0; t < 200; t++) {
      byte[] bad = coded.clone();
      bad[random.nextInt(bad.length)] ^= (byte) (1 << random.nextInt(8));
      try {
        int[] out = Rans.decode(bad, symbols.length, model, ORDER0);
        assertThat(out).hasSize(symbols.length);
      } catch (CodecException e) {
        caught++;
      }
    }
    assertThat(caught).isGreaterThan(190);
  }

  @Test
  void storedTablesAreCheckedBeforeUse() {
    assertThatThrownBy(() -> Frequencies.of(new int[] {1, 2, 3})).isInstanceOf(CodecException.class)
        .hasMessageContaining("sum to 6");
    assertThatThrownBy(() -> Frequencies.of(new int[] {-1, Rans.TOTAL + 1})).isInstanceOf(CodecException.class);
    assertThatThrownBy(() -> Frequencies.of(new int[0])).isInstanceOf(CodecException.class);
    Frequencies f = Frequencies.fromCounts(new long[] {3, 0, 1000, 7});
    assertThat(Frequencies.of(f.frequencies()).frequencies()).isEqualTo(f.frequencies());
    assertThat(f.frequencies()[1]).isZero();
    assertThat(f.frequencies()[0]).isPositive();
  }

  static long[] counts(int[] symbols, int alphabet) {
    long[] c = new long[alphabet];
    for (int s : symbols) {
      c[s]++;
    }
    return c;
  }

  private static long[] uniform(int n) {
    long[] c = new long[n];
    java.util.Arrays.fill(c, 1);
    return c;
  }

  static double entropyBits(long[] counts) {
    long n = 0;
    for (long c : counts) {
      n += c;
    }
    double bits = 0;
    for (long c : counts) {
      if (c > 0) {
        bits -= c * Math.log((double) c / n) / Math.log(2);
      }
    }
    return bits;
  }
}
