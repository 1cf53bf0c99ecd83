package io.evoc.evaluator.data;

import static io.evoc.evaluator.data.Fixtures.data;
import static io.evoc.evaluator.data.Fixtures.input;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

class BatchPlanTest {
  @Test
  void fixedBatchOfTenPadsTheLastCall() {
    DataSet data = data(new long[] {1, 2, 2}, 23, StoredType.FLOAT);
    BatchPlan plan = BatchPlan.of(data, input("x", 10, 1, 2, 2), 1000);

    assertThat(plan.batches()).containsExactly(
        new Batch(0, 0, 10, 10), new Batch(1, 10, 10, 10), new Batch(2, 20, 3, 10));
    Batch last = plan.get(2);
    assertThat(last.padding()).isEqualTo(7);
    assertThat(plan.shape(last)).containsExactly(10, 1, 2, 2);
    float[] buffer = plan.newBuffer();
    assertThat(buffer).hasSize(40);
    java.util.Arrays.fill(buffer, -1f);

    FloatBuffer x = plan.values(last, buffer);

    assertThat(x.remaining()).isEqualTo(40);
    assertThat(x.get(0)).isEqualTo(80f);
    assertThat(x.get(11)).isEqualTo(91f);
    assertThat(x.get(12)).isZero();
    assertThat(x.get(39)).isZero();
    assertThat(plan.labels(last)).containsExactly(0, 1, 2);
  }

  @Test
  void fullBatchesAreViewsOfTheDataSet() {
    DataSet data = data(new long[] {3}, 4, StoredType.FLOAT);
    BatchPlan plan = BatchPlan.of(data, input("x", 2, 3), 1000);

    FloatBuffer second = plan.values(plan.get(1), plan.newBuffer());

    assertThat(second.position()).isZero();
    assertThat(second.remaining()).isEqualTo(6);
    assertThat(second.get(0)).isEqualTo(6f);
    assertThat(second.isReadOnly()).isTrue();
  }

  @Test
  void batchOfOneFeedsSamplesOneByOne() {
    DataSet data = data(new long[] {784}, 3, StoredType.UINT8);
    BatchPlan plan = BatchPlan.of(data, input("x", 1, 784), 1000);

    assertThat(plan.count()).isEqualTo(3);
    assertThat(plan.batches()).allMatch(b -> b.count() == 1 && !b.isPadded());
  }

  @Test
  void symbolicBatchTakesTheRequestedSizeAndNeverPads() {
    DataSet data = data(new long[] {784}, 2500, StoredType.FLOAT);
    BatchPlan plan = BatchPlan.of(data, input("x", -1, 784), 1000);

    assertThat(plan.batches()).containsExactly(
        new Batch(0, 0, 1000, 1000), new Batch(1, 1000, 1000, 1000), new Batch(2, 2000, 500, 500));
    assertThat(plan.shape(plan.get(2))).containsExactly(500, 784);
    assertThat(plan.values(plan.get(2), plan.newBuffer()).get(0)).isEqualTo(2000f * 784);
    assertThat(plan.newBuffer()).isEmpty();
  }

  @Test
  void channelsLastFloatFileThroughFitPreprocessingAndBatches() {
    DataSet idx = DataLoader.load(Fixtures.fashion().toString(), 20);
    DataSet npy = DataLoader.load(Fixtures.examples().resolve("fashion-test-20-f32.npy").toString(), 0);
    var input = input("x", 10, 1, 28, 28);

    DataSet fitted = Preprocessing.DEFAULT.apply(ModelInput.fit(npy, input), input);
    DataSet fromBytes = Preprocessing.DEFAULT.apply(ModelInput.fit(idx, input), input);
    BatchPlan plan = BatchPlan.of(fitted, input, 1000);

    assertThat(fitted.values()).containsExactly(fromBytes.values());
    assertThat(plan.batches()).containsExactly(new Batch(0, 0, 10, 10), new Batch(1, 10, 10, 10));
    assertThat(plan.values(plan.get(1), plan.newBuffer()).get(0)).isEqualTo(fitted.values()[7840]);
  }
}
