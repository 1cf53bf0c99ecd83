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

  /**
   * A graph whose input fixes batch 1: the executor scores its samples at once through the
   * batch-free copy, ONNX Runtime one call per sample; both score the same candidates alike.
   */
  @Test
  void scoresAGraphThatFixesItsBatch() {
    Cli r = Cli.run("bench", "scoring", "--model", Cli.path("examples/fixtures/fixed-batch1-nhwc.onnx"),
        "--calib", Cli.FASHION + ":test", "--calib-limit", "30", "--population", "2", "--generations", "1",
        "--rounds", "1", "--step", "0.3"); // divergences well above float noise
    assertThat(r.exitCode()).as(r.err()).isZero();
    assertThat(((Number) r.json().get("ort_per_s")).doubleValue()).isPositive();
    java.util.regex.Matcher ort = java.util.regex.Pattern
        .compile("ONNX Runtime vs full forward: largest relative difference in divergence (\\S+)").matcher(r.err());
    assertThat(ort.find()).as(r.err()).isTrue();
    assertThat(Double.parseDouble(ort.group(1))).as("ONNX Runtime's divergences, one sample per call").isLessThan(1e-3);
  }

  @Test
  void rejectsZeroRounds() {
    Cli r = Cli.run("bench", "scoring", "--model", Cli.path("examples/models/fashion-mlp.onnx"),
        "--calib", Cli.path("examples/data/fashion-test-100.npz"), "--rounds", "0");
    assertThat(r.exitCode()).isNotZero();
    assertThat(r.err()).contains("--rounds");
  }
}
