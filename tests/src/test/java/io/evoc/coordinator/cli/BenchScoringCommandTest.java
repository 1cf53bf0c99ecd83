package io.evoc.coordinator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The scoring benchmark runs its rounds and reports their medians; its figures are measured, never asserted. */
class BenchScoringCommandTest {
  @Test
  void reportsEachRoundsRatiosAndTheirMedians() {
    Cli r = Cli.run("bench", "scoring", "--model", Cli.path("examples/models/fashion-mlp.onnx"),
        "--calib", Cli.path("examples/data/fashion-test-100.npz"), "--calib-limit", "50",
        "--population", "4", "--generations", "1", "--rounds", "2");
    assertThat(r.exitCode()).as(r.err()).isZero();
    Map<String, Object> m = r.json();
    assertThat(m).containsKeys("full_per_s", "incremental_per_s", "ort_per_s", "incremental_over_full",
        "incremental_over_ort", "peak_rss_mb");
    assertThat(m.get("rounds")).isEqualTo(2);
    assertThat(m.get("candidates")).as("4 candidates x 1 generation x 3 layers").isEqualTo(12);
    @SuppressWarnings("unchecked")
    List<Number> ratios = (List<Number>) m.get("incremental_over_full_rounds");
    assertThat(ratios).hasSize(2);
    double median = (ratios.get(0).doubleValue() + ratios.get(1).doubleValue()) / 2;
    assertThat(((Number) m.get("incremental_over_full")).doubleValue()).isCloseTo(median,
        org.assertj.core.data.Offset.offset(0.011));
    assertThat(r.err()).contains("warm-up:", "round 1:", "round 2:", "largest relative difference");
  }

  @Test
  void rejectsZeroRounds() {
    Cli r = Cli.run("bench", "scoring", "--model", Cli.path("examples/models/fashion-mlp.onnx"),
        "--calib", Cli.path("examples/data/fashion-test-100.npz"), "--rounds", "0");
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.err()).contains("--rounds");
  }
}
