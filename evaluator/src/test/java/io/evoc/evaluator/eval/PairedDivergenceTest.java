package io.evoc.evaluator.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class PairedDivergenceTest {
  @Test
  void meansTheirDifferenceAndItsStandardError() {
    double[] first = {0.10, 0.20, 0.05, 0.45};
    double[] second = {0.20, 0.30, 0.05, 0.65};
    PairedDivergence p = PairedDivergence.of(first, second);
    assertThat(p.first()).isCloseTo(0.2, within(1e-12));
    assertThat(p.second()).isCloseTo(0.3, within(1e-12));
    assertThat(p.difference()).isCloseTo(-0.1, within(1e-12));
    assertThat(p.ratio()).isCloseTo(2.0 / 3, within(1e-12));
    // Per-sample differences -0.1, -0.1, 0, -0.2: deviations 0, 0, 0.1, -0.1 from their mean.
    assertThat(p.standardError()).isCloseTo(Math.sqrt(0.02 / 4 / 4), within(1e-12));
  }

  /** A constant offset on every sample is certain, however far apart the samples themselves are. */
  @Test
  void aShiftOnEverySampleHasNoError() {
    double[] first = {0.01, 3.0, 0.5};
    double[] second = {0.02, 3.01, 0.51};
    PairedDivergence p = PairedDivergence.of(first, second);
    assertThat(p.difference()).isCloseTo(-0.01, within(1e-12));
    assertThat(p.standardError()).isLessThan(1e-12);
  }

  @Test
  void refusesCountsThatDiffer() {
    assertThatThrownBy(() -> PairedDivergence.of(new double[2], new double[3]))
        .hasMessage("2 and 3 divergences; expected the same, non-zero count");
  }
}
