package io.evoc.protocol.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The inline mask decoder against the general one: same 1s, same refusals. */
class MaskContextTest {
  private static final Rans.Context ORDER0 = (symbols, i) -> 0;

  /** A coded mask, its models either contextual or order 0. */
  private record Coded(int[] mask, int stride, Frequencies[] models, byte[] data) {
    static Coded of(int[] mask, int stride, boolean contextual) {
      int contexts = contextual ? MaskContext.CONTEXTS : 1;
      int[] of = Rans.contexts(mask, contextual ? new MaskContext(stride) : ORDER0);
      long[][] counts = new long[contexts][2];
      for (int i = 0; i < mask.length; i++) {
        counts[of[i]][mask[i]]++;
      }
      Frequencies[] models = Arrays.stream(counts).map(Frequencies::fromCounts).toArray(Frequencies[]::new);
      return new Coded(mask, stride, models, Rans.encode(mask, models, of));
    }

    /** What the general decoder makes of {@code bytes}: the 1s' indices. */
    int[] generalOnes(byte[] bytes) {
      Rans.Context context = models.length == 1 ? ORDER0 : new MaskContext(stride);
      return ones(Rans.decode(bytes, mask.length, models, context));
    }
  }

  /** Rows like a pruned layer's: dead columns, dead rows, and scattered survivors at some density. */
  private static int[] mask(SplittableRandom random, int count, int stride, double density) {
    boolean[] deadColumn = new boolean[stride];
    for (int c = 0; c < stride; c++) {
      deadColumn[c] = random.nextDouble() < 0.3;
    }
    int[] mask = new int[count];
    boolean deadRow = false;
    for (int i = 0; i < count; i++) {
      if (i % stride == 0) {
        deadRow = random.nextDouble() < 0.1;
      }
      boolean structured = !deadColumn[i % stride] && !deadRow;
      mask[i] = (structured || density >= 1) && random.nextDouble() < density ? 1 : 0;
    }
    return mask;
  }

  private static int[] ones(int[] mask) {
    return java.util.stream.IntStream.range(0, mask.length).filter(i -> mask[i] == 1).toArray();
  }

  @Test
  void agreesWithTheGeneralDecoderOnEveryShapeAndDensity() {
    SplittableRandom random = new SplittableRandom(11);
    int[][] shapes = {{0, 1}, {1, 1}, {7, 1}, {1, 300}, {40, 1}, {17, 23}, {100, 300}, {23, 5}, {10, 7}};
    for (int[] shape : shapes) {
      for (double density : new double[] {0, 0.02, 0.1, 0.5, 0.95, 1}) {
        for (boolean contextual : new boolean[] {true, false}) {
          // Also a count that is not a whole number of rows, which the general decoder allows.
          for (int extra : new int[] {0, shape[1] > 1 ? 3 : 0}) {
            int count = shape[0] * shape[1] + Math.min(extra, shape[1] - 1);
            Coded c = Coded.of(mask(random, count, shape[1], density), shape[1], contextual);
            int[] expected = ones(c.mask());
            assertThat(c.generalOnes(c.data())).isEqualTo(expected);
            assertThat(MaskContext.decodeOnes(c.data(), count, c.stride(), c.models(), expected.length))
                .as("%s, density %s, contextual %s, count %d", Arrays.toString(shape), density, contextual, count)
                .isEqualTo(expected);
          }
        }
      }
    }
  }

  @Test
  void damagedMasksGetTheGeneralDecodersAnswer() {
    SplittableRandom random = new SplittableRandom(12);
    Coded c = Coded.of(mask(random, 60 * 50, 50, 0.15), 50, true);
    int refused = 0;
    for (int trial = 0; trial < 500; trial++) {
      byte[] bad = c.data().clone();
      if (trial % 5 == 0) {
        bad = Arrays.copyOf(bad, random.nextInt(bad.length + 3));
      } else {
        bad[random.nextInt(bad.length)] ^= (byte) (1 << random.nextInt(8));
      }
      byte[] input = bad;
      int[] general;
      try {
        general = c.generalOnes(input);
      } catch (CodecException e) {
        assertThatThrownBy(() -> MaskContext.decodeOnes(input, c.mask().length, c.stride(), c.models(), 0))
            .as("trial %d", trial).isInstanceOf(CodecException.class).hasMessage(e.getMessage());
        refused++;
        continue;
      }
      assertThat(MaskContext.decodeOnes(input, c.mask().length, c.stride(), c.models(), general.length))
          .isEqualTo(general);
    }
    assertThat(refused).isGreaterThan(400);
  }

  @Test
  void aMaskWithOtherThanTheExpectedOnesIsRefused() {
    Coded c = Coded.of(mask(new SplittableRandom(13), 30 * 20, 20, 0.2), 20, true);
    int ones = ones(c.mask()).length;
    for (int wrong : new int[] {0, ones - 1, ones + 1, c.mask().length}) {
      assertThatThrownBy(() -> MaskContext.decodeOnes(c.data(), c.mask().length, c.stride(), c.models(), wrong))
          .isInstanceOf(CodecException.class).hasMessageContaining("mask holds " + ones + " ones");
    }
    assertThatThrownBy(() -> MaskContext.decodeOnes(c.data(), c.mask().length, c.stride(), c.models(),
        c.mask().length + 1)).isInstanceOf(CodecException.class);
    Frequencies[] ternary = {Frequencies.fromCounts(new long[] {1, 1, 1})};
    assertThatThrownBy(() -> MaskContext.decodeOnes(c.data(), c.mask().length, c.stride(), ternary, ones))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
