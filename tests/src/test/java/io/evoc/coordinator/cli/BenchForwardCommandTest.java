package io.evoc.coordinator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The benchmark runs and reports; its figures are measured, never asserted. */
class BenchForwardCommandTest {
  @Test
  void reportsBothEnginesAndTheirRatio() {
    Cli r = Cli.run("bench", "forward", "--model", Cli.path("examples/fixtures/torch-cnn.onnx"),
        "--batch", "64", "--seconds", "0.4");
    assertThat(r.exitCode()).as(r.err()).isZero();
    Map<String, Object> m = r.json();
    assertThat(m).containsKeys("djl_passes_per_s", "ort_passes_per_s", "ort_over_djl_time_ratio", "peak_rss_mb");
    assertThat(m.get("batch")).isEqualTo(64);
    assertThat(((Number) m.get("djl_passes_per_s")).doubleValue()).isPositive();
  }
}
