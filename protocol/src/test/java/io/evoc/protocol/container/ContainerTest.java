package io.evoc.protocol.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tensors through the coder and the file frame: exact round trips, sizes near entropy, damage refused. */
class ContainerTest {
  /**
   * A pruned 300×784 layer like the example MLP's first: 90% pruned, whole inputs dead (the
   * structure the mask's row context exploits), 16 shared values used with skewed frequencies.
   */
  static QuantizedTensor prunedLayer(long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    int rows = 300;
    int cols = 784;
    boolean[] deadInput = new boolean[cols];
    for (int c = 0; c < cols; c++) {
      deadInput[c] = random.nextDouble() < 0.3;
    }
    float[] codebook = new float[16];
    for (int k = 0; k < codebook.length; k++) {
      codebook[k] = (k - 7.5f) * 0.01f;
    }
    int[] index = new int[rows * cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        boolean kept = !deadInput[c] && random.nextDouble() < 0.14;
        // Indices near the middle (small weights) are the most common: roughly Laplacian.
        int k = (int) Math.round(7.5 + random.nextGaussian() * 2.5);
        index[r * cols + c] = kept ? Math.max(0, Math.min(15, k)) : QuantizedTensor.PRUNED;
      }
    }
    return new QuantizedTensor("fc1.weight", new long[] {rows, cols}, codebook, index);
  }

  static Container container(QuantizedTensor... tensors) {
    Container.Builder c = Container.newBuilder().setFormatVersion(ContainerFile.FORMAT_VERSION)
        .setSourceSha256(ByteString.copyFrom(new byte[32])).setGraph(ByteString.copyFromUtf8("graph"))
        .putSettings("method", "de").setChosen(ParetoPoint.newBuilder().setBytes(1).setDivergence(0.1));
    for (QuantizedTensor t : tensors) {
      c.addTensors(TensorCoder.encode(t));
    }
    return c.build();
  }

  @Test
  void tensorsRoundTripExactly(@TempDir Path dir) {
    QuantizedTensor pruned = prunedLayer(1);
    int[] denseIndex = new int[70];
    for (int i = 0; i < denseIndex.length; i++) {
      denseIndex[i] = i % 3;
    }
    QuantizedTensor[] tensors = {
        pruned,
        new QuantizedTensor("dense", new long[] {10, 7}, new float[] {-1f, 0f, 0.5f}, denseIndex),
        new QuantizedTensor("all-pruned", new long[] {4, 4}, new float[0], filled(16, QuantizedTensor.PRUNED)),
        new QuantizedTensor("empty", new long[] {0, 5}, new float[] {1f}, new int[0]),
        new QuantizedTensor("scalar", new long[] {}, new float[] {2.5f}, new int[] {0}),
        new QuantizedTensor("one-value", new long[] {50}, new float[] {-0.25f}, filled(50, 0)),
        cyclingOnGrid("bias", Grids.spanning(-0.3f, 0.7f, 5), 40),
    };
    Path file = dir.resolve("m.evoc");
    try {
      ContainerFile.write(container(tensors), file);
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
    Container back = ContainerFile.read(file);
    assertThat(back.getSettingsMap()).containsEntry("method", "de");
    for (int t = 0; t < tensors.length; t++) {
      QuantizedTensor decoded = TensorCoder.decodeIndices(back.getTensors(t));
      assertThat(decoded.name()).isEqualTo(tensors[t].name());
      assertThat(decoded.shape()).containsExactly(tensors[t].shape());
      assertThat(decoded.index()).as(tensors[t].name()).containsExactly(tensors[t].index());
      assertThat(TensorCoder.decode(back.getTensors(t))).containsExactly(tensors[t].values());
    }
    assertThat(back.getTensors(1).hasPositions()).as("dense: no mask stored").isFalse();
    CodedTensor bias = back.getTensors(tensors.length - 1);
    assertThat(bias.hasGrid()).isTrue();
    assertThat(bias.getCodebookCount()).as("the grid stands for its 32 levels").isZero();
    assertThat(TensorCoder.decodeIndices(bias).grid()).isEqualTo(bias.getGrid());
  }

  /** The levels are offset + i * step in float32: both ends of the span are levels. */
  @Test
  void gridsSpanTheirRange() {
    float[] levels = Grids.levels(Grids.spanning(-0.3f, 0.7f, 3));
    assertThat(levels).hasSize(8);
    assertThat(levels[0]).isEqualTo(-0.3f);
    assertThat(levels[7]).isCloseTo(0.7f, org.assertj.core.data.Offset.offset(1e-6f));
    assertThat(Grids.levels(Grids.spanning(2f, 2f, 4))).containsExactly(2f);
    assertThat(Grids.nearest(levels, 0.06f)).isEqualTo(3);
  }

  /** Grids no encoder writes (no levels, too many, a negative or infinite step) are refused in one line. */
  @Test
  void badGridsAreRefused() {
    CodedTensor good = TensorCoder.encode(cyclingOnGrid("b", Grids.spanning(-1f, 1f, 4), 20));
    for (UniformGrid bad : new UniformGrid[] {
        good.getGrid().toBuilder().setLevels(0).build(),
        good.getGrid().toBuilder().setLevels(Grids.MAX_LEVELS + 1).build(),
        good.getGrid().toBuilder().setStep(-0.1f).build(),
        good.getGrid().toBuilder().setStep(Float.POSITIVE_INFINITY).build()}) {
      assertThatThrownBy(() -> TensorCoder.decode(good.toBuilder().setGrid(bad).build()))
          .isInstanceOf(ContainerException.class).hasMessageStartingWith("tensor 'b': grid");
    }
    assertThatThrownBy(() -> TensorCoder.decode(good.toBuilder().addCodebook(1f).build()))
        .hasMessage("tensor 'b': has a grid and a codebook or raw values as well");
  }

  /** n values on a grid, every level from the lowest up used in turn. */
  static QuantizedTensor cyclingOnGrid(String name, UniformGrid grid, int n) {
    int[] index = new int[n];
    for (int i = 0; i < n; i++) {
      index[i] = (i * 7) % grid.getLevels();
    }
    return new QuantizedTensor(name, new long[] {n}, Grids.levels(grid), index, grid);
  }

  /** Indices within 3% of their order-0 entropy; the mask's row context beats order-0 coding of it. */
  @Test
  void codedSizesApproachTheEntropy() {
    QuantizedTensor t = prunedLayer(2);
    CodedTensor c = TensorCoder.encode(t);
    int[] survivorsIndex = Arrays.stream(t.index()).filter(i -> i != QuantizedTensor.PRUNED).toArray();
    double indexBits = entropyBits(survivorsIndex, 16);
    assertThat(8.0 * c.getIndices().getData().size()).isLessThanOrEqualTo(1.03 * indexBits);
    int[] mask = Arrays.stream(t.index()).map(i -> i == QuantizedTensor.PRUNED ? 0 : 1).toArray();
    double maskBits = entropyBits(mask, 2);
    assertThat(c.getPositions().getCoding()).isEqualTo(Coding.RANS_CONTEXT);
    assertThat(8.0 * c.getPositions().getData().size()).isLessThan(0.95 * maskBits);
  }

  @Test
  void damagedFilesAreRefusedBeforeDecoding() {
    byte[] good = ContainerFile.toBytes(container(prunedLayer(3)));
    SplittableRandom random = new SplittableRandom(9);
    for (int trial = 0; trial < 300; trial++) {
      byte[] bad = good.clone();
      int at = random.nextInt(bad.length);
      bad[at] ^= (byte) (1 << random.nextInt(8));
      assertThatThrownBy(() -> ContainerFile.parse(bad, "m.evoc")).as("flip at %d", at)
          .isInstanceOf(ContainerException.class).hasMessageStartingWith("m.evoc: ")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }
    assertThatThrownBy(() -> ContainerFile.parse(Arrays.copyOf(good, good.length - 1), "m.evoc"))
        .hasMessageContaining("truncated");
    assertThatThrownBy(() -> ContainerFile.parse(Arrays.copyOf(good, good.length + 3), "m.evoc"))
        .hasMessageContaining("trailing bytes");
    assertThatThrownBy(() -> ContainerFile.parse("ONNX model".getBytes(), "m.onnx"))
        .hasMessage("m.onnx: not an evoc container (no .evoc magic at the start)");
    byte[] future = good.clone();
    ByteBuffer.wrap(future, ContainerFile.MAGIC.length, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(7);
    assertThatThrownBy(() -> ContainerFile.parse(future, "m.evoc"))
        .hasMessage("m.evoc: format version 7; this evoc reads versions 1 to 2");
  }

  @Test
  void missingFileIsOneLine(@TempDir Path dir) {
    assertThatThrownBy(() -> ContainerFile.read(dir.resolve("none.evoc")))
        .isInstanceOf(ContainerException.class).hasMessageEndingWith("none.evoc: no such file");
  }

  /** A claimed size far beyond what the bytes could code is refused before anything is allocated. */
  @Test
  void impossibleSizesAreRefusedUpFront() {
    CodedTensor small = TensorCoder.encode(new QuantizedTensor("w", new long[] {4}, new float[] {1f}, filled(4, 0)));
    CodedTensor huge = small.toBuilder().clearShape().addShape(1L << 24).setSurvivors(1L << 24).build();
    assertThatThrownBy(() -> TensorCoder.decode(huge)).isInstanceOf(ContainerException.class)
        .hasMessageContaining("tensor 'w'").hasMessageContaining("cannot come from");
    CodedTensor overflow = small.toBuilder().clearShape().addShape(1L << 40).addShape(1L << 40).build();
    assertThatThrownBy(() -> TensorCoder.decode(overflow)).hasMessageContaining("too large");
    // Enough coded bytes to claim 2^30 mask entries, more than the heap could hold while decoding.
    Stream positions = Stream.newBuilder().setCoding(Coding.RANS).addTables(Table.newBuilder().addValues(16383)
        .addValues(1)).setData(ByteString.copyFrom(new byte[1 << 14])).build();
    CodedTensor heavy = small.toBuilder().clearShape().addShape(1L << 30).setPositions(positions).build();
    org.junit.jupiter.api.Assumptions.assumeTrue(Runtime.getRuntime().maxMemory() < (1L << 30) * 32);
    assertThatThrownBy(() -> TensorCoder.decode(heavy)).hasMessageContaining("raise -Xmx");
  }

  private static int[] filled(int n, int v) {
    int[] a = new int[n];
    Arrays.fill(a, v);
    return a;
  }

  static double entropyBits(int[] symbols, int alphabet) {
    long[] counts = new long[alphabet];
    for (int s : symbols) {
      counts[s]++;
    }
    double bits = 0;
    for (long c : counts) {
      if (c > 0) {
        bits -= c * Math.log((double) c / symbols.length) / Math.log(2);
      }
    }
    return bits;
  }
}
