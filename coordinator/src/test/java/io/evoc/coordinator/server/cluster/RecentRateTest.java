package io.evoc.coordinator.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** An evaluator's recent throughput: what it scored in the last minute, not since it joined. */
class RecentRateTest {
  @Test
  void countsTheLastMinuteOnly() {
    RecentRate rate = new RecentRate(1000);
    for (long s = 1000; s < 1120; s++) { // two minutes at 50 a second, in two answers each
      rate.add(20, s);
      rate.add(30, s);
    }
    assertThat(rate.perSecond(1119)).isCloseTo(50, within(1e-9));
    // It stops getting work: 30 s later half the window is empty, a minute later all of it.
    assertThat(rate.perSecond(1149)).isCloseTo(25, within(1e-9));
    assertThat(rate.perSecond(1179)).isZero();
    // Buckets a full turn of the ring old are not counted again.
    rate.add(60, 1200);
    assertThat(rate.perSecond(1200)).isCloseTo(1, within(1e-9));
  }

  @Test
  void aNewcomersWindowIsAsLongAsItHasBeenCounting() {
    RecentRate rate = new RecentRate(500);
    rate.add(100, 500);
    assertThat(rate.perSecond(500)).isCloseTo(100, within(1e-9));
    rate.add(100, 509);
    assertThat(rate.perSecond(509)).isCloseTo(20, within(1e-9));
  }
}
