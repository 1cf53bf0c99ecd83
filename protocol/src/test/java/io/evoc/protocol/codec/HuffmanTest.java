package io.evoc.protocol.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HuffmanTest {
  @Test
  void roundTripsWithinOneBitPerSymbolOfTheEntropy() {
    SplittableRandom random = new SplittableRandom(1);
    int[] symbols = new int[200_000];
    for (int i = 0; i < symbols.length; i++) {
      symbols[i] = (int) Math.min(63, Math.floor(-Math.log(1 - random.nextDouble()) * 6)); // geometric-like
    }
    long[] counts = RansTest.counts(symbols, 64);
    int[] lengths = Huffman.lengths(counts);
    byte[] coded = Huffman.encode(symbols, lengths);
    assertThat(Huffman.decode(coded, symbols.length, lengths)).isEqualTo(symbols);
    double entropy = RansTest.entropyBits(counts) / 8;
    assertThat((double) coded.length).isBetween(entropy, entropy * 1.03);
  }

  /** Fibonacci counts make an unlimited Huffman tree as deep as the alphabet is wide. */
  @Test
  void lengthsAreLimitedAndStillDecode() {
    long[] counts = new long[30];
    counts[0] = 1;
    counts[1] = 1;
    for (int s = 2; s < counts.length; s++) {
      counts[s] = counts[s - 1] + counts[s - 2];
    }
    int[] lengths = Huffman.lengths(counts);
    assertThat(Arrays.stream(lengths).max().getAsInt()).isLessThanOrEqualTo(Huffman.MAX_LENGTH);
    int[] symbols = new int[5000];
    for (int i = 0; i < symbols.length; i++) {
      symbols[i] = i % 30;
    }
    assertThat(Huffman.decode(Huffman.encode(symbols, lengths), symbols.length, lengths)).isEqualTo(symbols);
  }

  @Test
  void singleSymbolAndEmptyStreams() {
    int[] lengths = Huffman.lengths(new long[] {0, 0, 9});
    assertThat(lengths).containsExactly(0, 0, 1);
    int[] twos = {2, 2, 2};
    byte[] coded = Huffman.encode(twos, lengths);
    assertThat(coded).hasSize(1);
    assertThat(Huffman.decode(coded, 3, lengths)).isEqualTo(twos);
    assertThat(Huffman.decode(new byte[0], 0, lengths)).isEmpty();
  }

  /** The decoder's table is as wide as the longest code: short codes still check truncation and padding. */
  @Test
  void shortCodesCheckTheirPaddingToo() {
    int[] lengths = {1, 2, 2};
    int[] symbols = {0, 2, 1, 0}; // codes 0, 11, 10, 0, then 2 bits of padding
    byte[] coded = Huffman.encode(symbols, lengths);
    assertThat(coded).containsExactly(0b01110000);
    assertThat(Huffman.decode(coded, 4, lengths)).isEqualTo(symbols);
    assertThatThrownBy(() -> Huffman.decode(new byte[] {0b01110001}, 4, lengths)).hasMessageContaining("2 bits left");
    assertThatThrownBy(() -> Huffman.decode(coded, 2, lengths)).hasMessageContaining("5 bits left");
    assertThatThrownBy(() -> Huffman.decode(coded, 7, lengths)).hasMessageContaining("truncated");
    assertThatThrownBy(() -> Huffman.decode(coded, 4, new int[] {2, 2, 0})).hasMessageContaining("no code matches");
  }

  @Test
  void damagedStreamsAndTablesAreRefused() {
    SplittableRandom random = new SplittableRandom(2);
    int[] symbols = new int[3000];
    for (int i = 0; i < symbols.length; i++) {
      symbols[i] = random.nextInt(10) < 7 ? 0 : random.nextInt(10);
    }
    int[] lengths = Huffman.lengths(RansTest.counts(symbols, 10));
    byte[] coded = Huffman.encode(symbols, lengths);
    assertThatThrownBy(() -> Huffman.decode(Arrays.copyOf(coded, coded.length - 2), symbols.length, lengths))
        .isInstanceOf(CodecException.class);
    assertThatThrownBy(() -> Huffman.decode(Arrays.copyOf(coded, coded.length + 1), symbols.length, lengths))
        .isInstanceOf(CodecException.class).hasMessageContaining("left over");
    assertThatThrownBy(() -> Huffman.decode(coded, symbols.length, new int[] {1, 1, 1}))
        .isInstanceOf(CodecException.class).hasMessageContaining("over-subscribe");
    assertThatThrownBy(() -> Huffman.decode(coded, symbols.length, new int[] {16}))
        .isInstanceOf(CodecException.class);
    for (int t = 0; t < 200; t++) {
      byte[] bad = coded.clone();
      bad[random.nextInt(bad.length)] ^= (byte) (1 << random.nextInt(8));
      try {
        assertThat(Huffman.decode(bad, symbols.length, lengths)).hasSize(symbols.length);
      } catch (CodecException expected) {
        // refused: fine; any other exception fails the test
      }
    }
  }
}
