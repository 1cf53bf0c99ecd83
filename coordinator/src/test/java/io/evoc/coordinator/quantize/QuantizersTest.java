package io.evoc.coordinator.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class QuantizersTest {
  /** Heavy-tailed like trained weights: Laplace(0, 0.05). */
  private static float[] laplace(int n, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      double u = random.nextDouble() - 0.5;
      v[i] = (float) (-0.05 * Math.signum(u) * Math.log(1 - 2 * Math.abs(u)));
    }
    return v;
  }

  @Test
  void codebookRoundsToTheNearestLevel() {
    Codebook c = new Codebook(new float[] {-1f, 0.5f, 2f});
    assertThat(c.indices(new float[] {-5f, -0.25f, -0.24f, 1.25f, 1.26f, 9f})).containsExactly(0, 0, 1, 1, 2, 2);
    assertThat(c.dequantize(new int[] {2, 0})).containsExactly(2f, -1f);
    assertThatThrownBy(() -> new Codebook(new float[] {1f, 1f})).isInstanceOf(IllegalArgumentException.class);
  }

  /** Neighbouring floats: their float midpoint is one of them, so the boundary must be taken wider. */
  @Test
  void anExactCodebookGivesEveryValueBackBitForBit() {
    SplittableRandom random = new SplittableRandom(6);
    float[] v = new float[50_000];
    for (int i = 0; i < v.length; i++) {
      float x = (float) random.nextGaussian() * 0.1f;
      v[i] = i % 2 == 0 ? x : Math.nextUp(v[i - 1]);
    }
    Codebook c = Quantizers.exact(v);
    assertThat(c.dequantize(c.indices(v))).isEqualTo(v);
  }

  @Test
  void lloydMaxFindsClusterCentres() {
    SplittableRandom random = new SplittableRandom(4);
    float[] centres = {-0.3f, 0.02f, 0.4f};
    float[] v = new float[3000];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (centres[i % 3] + 0.01 * random.nextGaussian());
    }
    float[] levels = Quantizers.lloydMax(v, null, 3).levels();
    assertThat(levels).hasSize(3);
    for (int c = 0; c < 3; c++) {
      assertThat(levels[c]).isCloseTo(centres[c], within(0.002f));
    }
  }

  /** Optimal placement beats even spacing at the same level count, and more levels never hurt. */
  @Test
  void lloydMaxBeatsUniformAndImprovesWithLevels() {
    float[] v = laplace(20_000, 1);
    double previous = Double.POSITIVE_INFINITY;
    for (int bits = 1; bits <= 5; bits++) {
      Codebook optimal = Quantizers.lloydMax(v, null, 1 << bits);
      double error = optimal.weightedError(v, null);
      assertThat(error).isLessThan(Quantizers.uniformAsymmetric(v, bits).weightedError(v, null));
      assertThat(error).isLessThanOrEqualTo(Quantizers.uniformSymmetric(v, null, bits).weightedError(v, null));
      assertThat(error).isLessThan(previous);
      previous = error;
    }
  }

  @Test
  void weightsPullLevelsTowardTheValuesThatMatter() {
    float[] v = {0f, 0f, 1f};
    assertThat(Quantizers.lloydMax(v, null, 1).levels()[0]).isCloseTo(1f / 3, within(1e-6f));
    assertThat(Quantizers.lloydMax(v, new float[] {1, 1, 98}, 1).levels()[0]).isCloseTo(0.98f, within(1e-6f));
  }

  @Test
  void fewDistinctValuesAreKeptExactly() {
    float[] v = {0.25f, -0.5f, 0.25f, 0.75f, -0.5f};
    Codebook c = Quantizers.lloydMax(v, null, 16);
    assertThat(c.levels()).containsExactly(-0.5f, 0.25f, 0.75f);
    assertThat(c.weightedError(v, null)).isZero();
  }

  /** Symmetric levels ±(i+½)Δ; clipping the tails is worth it on heavy-tailed weights. */
  @Test
  void uniformSymmetricClipsTheTails() {
    float[] v = laplace(20_000, 2);
    Codebook c = Quantizers.uniformSymmetric(v, null, 3);
    float[] l = c.levels();
    assertThat(l).hasSize(8);
    for (int i = 0; i < 4; i++) {
      assertThat(l[i]).isCloseTo(-l[7 - i], within(1e-7f));
    }
    double max = 0;
    for (float x : v) {
      max = Math.max(max, Math.abs(x));
    }
    assertThat((double) l[7]).isLessThan(0.9 * max * 7 / 8);
    assertThat(Quantizers.uniformSymmetric(v, null, 3).levels()).containsExactly(l);
  }

  @Test
  void refusesBadArguments() {
    assertThatThrownBy(() -> Quantizers.uniformSymmetric(new float[] {1f}, null, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bits");
    assertThatThrownBy(() -> Quantizers.lloydMax(new float[] {1f}, null, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThat(Quantizers.uniformAsymmetric(new float[] {2f, 2f}, 4).levels()).containsExactly(2f);
  }
}
