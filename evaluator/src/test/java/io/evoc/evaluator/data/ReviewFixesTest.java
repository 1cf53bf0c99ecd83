package io.evoc.evaluator.data;

import static io.evoc.evaluator.data.Fixtures.data;
import static io.evoc.evaluator.data.Fixtures.input;
import static io.evoc.evaluator.data.Fixtures.writeIdx;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Edge cases a review found: each once let bad input through or gave a silently wrong result. */
class ReviewFixesTest {
  @Test
  void rawIdxClaimingAHugeShapeIsRefusedWithoutAllocatingIt(@TempDir Path dir) throws IOException {
    // 28 bytes that claim 400 x 1000 x 1000 images (400 MB): read as it arrives, so "truncated".
    Path file = writeIdx(dir.resolve("big-images-idx3-ubyte"), 0x803, new int[] {400, 1000, 1000}, new byte[16], false);
    assertThatThrownBy(() -> IdxFiles.read(file, null)).isInstanceOf(DataException.class)
        .hasMessageStartingWith(file.toString()).hasMessageContaining("truncated");
    Path huge = writeIdx(dir.resolve("huge-images-idx3-ubyte"), 0x803, new int[] {60000, 100000, 100000}, new byte[16], false);
    assertThatThrownBy(() -> IdxFiles.read(huge, null)).isInstanceOf(DataException.class)
        .hasMessageContaining("more data than evoc loads");
  }

  @Test
  void zeroSizedSampleDimensionIsADataError(@TempDir Path dir) throws IOException {
    Path file = writeIdx(dir.resolve("zero-images-idx3-ubyte"), 0x803, new int[] {5, 0, 28}, new byte[0], false);
    assertThatThrownBy(() -> IdxFiles.read(file, null)).isInstanceOf(DataException.class)
        .hasMessageContaining("is zero");
  }

  @Test
  void gzippedImagesFindRawLabelsBesideThem(@TempDir Path dir) throws IOException {
    Path images = writeIdx(dir.resolve("t10k-images-idx3-ubyte.gz"), 0x803, new int[] {2, 2, 2}, new byte[8], true);
    writeIdx(dir.resolve("t10k-labels-idx1-ubyte"), 0x801, new int[] {2}, new byte[] {3, 4}, false);
    assertThat(DataLoader.load(images.toString(), 0).labels()).containsExactly(3, 4);
  }

  @Test
  void aBatchNearIntegerMaxStillCoversEverySample() {
    BatchPlan plan = BatchPlan.of(data(new long[] {3}, 7, StoredType.FLOAT), input("x", -1, 3), Integer.MAX_VALUE);
    assertThat(plan.count()).isEqualTo(1);
    assertThat(plan.get(0).count()).isEqualTo(7);
  }

  @Test
  void channelsLastWithALeadingOneIsTransposedNotReshaped() {
    // One sample [1, 2, 2, 3] (H=W=2, C=3), values 0..11 in HWC order.
    DataSet hwc = data(new long[] {1, 2, 2, 3}, 1, StoredType.FLOAT);
    DataSet chw = ModelInput.fit(hwc, input("x", -1, 3, 2, 2));
    assertThat(chw.sampleShape()).containsExactly(3, 2, 2);
    // Channel 0 holds the values at positions 0, 3, 6, 9 of the HWC data.
    assertThat(chw.values()).startsWith(0f, 3f, 6f, 9f, 1f, 4f);
  }

  @Test
  void negativeLimitIsRejected() {
    assertThatThrownBy(() -> data(new long[] {1}, 3, StoredType.FLOAT).limit(-1))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
