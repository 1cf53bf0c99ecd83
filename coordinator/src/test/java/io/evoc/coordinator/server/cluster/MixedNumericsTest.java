package io.evoc.coordinator.server.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.evoc.evaluator.engine.Numerics;
import io.evoc.protocol.cluster.WorkRequest;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The work queue tells when evaluators that compute differently join, and whether its evaluators
 * are alike enough to take equal shares of a population (the cluster tests run it live).
 */
class MixedNumericsTest {
  private static final String PINNED = Numerics.describe(Numerics.PINNED);

  private static WorkRequest request(String evaluator, String device, String numerics) {
    return WorkRequest.newBuilder().setEvaluator(evaluator).setCapacity(2).setDevice(device).setNumerics(numerics)
        .build();
  }

  @Test
  void aNewEvaluatorThatComputesDifferentlyIsNamedOnce() {
    WorkQueue queue = new WorkQueue(Duration.ofSeconds(60), ref -> null);
    queue.request(request("a", "cpu", PINNED));
    queue.request(request("b", "cpu", PINNED));
    assertThat(queue.takeWarnings()).isEmpty();
    String unpinned = Numerics.describe(java.util.Map.of());
    queue.request(request("c", "cpu", unpinned));
    assertThat(queue.takeWarnings()).singleElement().asString()
        .contains("evaluator c (cpu: " + unpinned + ")", "(cpu: " + PINNED + ")");
    // Its later requests for work say nothing more; a GPU is named as one.
    queue.request(request("c", "cpu", unpinned));
    assertThat(queue.takeWarnings()).isEmpty();
    queue.request(request("g", "gpu:0", "cuda"));
    assertThat(queue.takeWarnings()).singleElement().asString().contains("evaluator g (gpu:0: cuda)");
    assertThat(queue.evaluators()).extracting(WorkQueue.EvaluatorView::numerics)
        .containsExactlyInAnyOrder(PINNED, PINNED, unpinned, "cuda");
  }

  @Test
  void theWarningListsWhatIsNotPinned() {
    assertThat(Numerics.unpinned(Numerics.PINNED)).isEmpty();
    assertThat(Numerics.unpinned(java.util.Map.of("MKL_CBWR", "AUTO", "ATEN_CPU_CAPABILITY", "avx2")))
        .containsExactly("MKL_CBWR=AUTO", "ONEDNN_MAX_CPU_ISA unset");
    assertThat(PINNED).isEqualTo("MKL_CBWR=AVX2 ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2");
  }

  @Test
  void evaluatorsAreAlikeWithTheSameKindOfDeviceComputingTheSameWay() {
    WorkQueue queue = new WorkQueue(Duration.ofSeconds(60), ref -> null);
    assertThat(queue.evaluatorsAlike()).isTrue();
    queue.request(request("a", "cpu", PINNED));
    queue.request(request("b", "cpu", PINNED));
    assertThat(queue.evaluatorsAlike()).isTrue();
    queue.request(request("c", "cpu", Numerics.describe(java.util.Map.of())));
    assertThat(queue.evaluatorsAlike()).as("a CPU that computes differently").isFalse();

    WorkQueue gpus = new WorkQueue(Duration.ofSeconds(60), ref -> null);
    gpus.request(request("g0", "gpu:0", "cuda"));
    gpus.request(request("g1", "gpu:1", "cuda"));
    assertThat(gpus.evaluatorsAlike()).as("two GPUs of one node").isTrue();
    gpus.request(request("c", "cpu", "cuda"));
    assertThat(gpus.evaluatorsAlike()).as("a CPU beside GPUs").isFalse();
  }
}
