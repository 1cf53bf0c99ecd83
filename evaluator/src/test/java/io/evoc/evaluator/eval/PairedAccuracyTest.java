package io.evoc.evaluator.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class PairedAccuracyTest {
  @Test
  void countsTheDiscordantSamplesAndTheirStandardError() {
    int[] labels = {0, 1, 2, 3, 4, 5, 6, 7};
    int[] first = {0, 1, 2, 3, 9, 9, 9, 9};
    int[] second = {0, 1, 9, 9, 4, 9, 8, 9};
    PairedAccuracy p = PairedAccuracy.of(first, second, labels);
    assertThat(p.onlyFirst()).isEqualTo(2);
    assertThat(p.onlySecond()).isEqualTo(1);
    assertThat(p.agree()).isEqualTo(4); // samples 0, 1, 5, 7
    assertThat(p.difference()).isCloseTo(1.0 / 8, within(1e-12));
    // Per-sample differences: +1, +1, -1 and five zeros; their variance (population) over n.
    double mean = 1.0 / 8;
    double variance = (2 * Math.pow(1 - mean, 2) + Math.pow(-1 - mean, 2) + 5 * mean * mean) / 8;
    assertThat(p.standardError()).isCloseTo(Math.sqrt(variance / 8), within(1e-12));
  }

  @Test
  void identicalPredictionsDifferByNothingWithNoError() {
    int[] labels = {1, 1, 0};
    int[] same = {1, 0, 0};
    PairedAccuracy p = PairedAccuracy.of(same, same.clone(), labels);
    assertThat(p.difference()).isZero();
    assertThat(p.standardError()).isZero();
    assertThat(p.agree()).isEqualTo(3);
  }

  @Test
  void refusesPredictionsOfAnotherLength() {
    assertThatThrownBy(() -> PairedAccuracy.of(new int[2], new int[3], new int[3]))
        .hasMessage("2 and 3 predictions for 3 labels");
  }
}
