package io.evoc.protocol.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.evoc.protocol.codec.Huffman;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/** Decoding paths the encoder's own output does not reach, and the CRC taken in chunks. */
class TensorCoderTest {
  @Test
  void crcInChunksIsTheCrcOfAllTheBytes() {
    SplittableRandom random = new SplittableRandom(5);
    for (int n : new int[] {0, 1, 3, 16383, 16384, 16385, 70000}) {
      float[] values = new float[n];
      for (int i = 0; i < n; i++) {
        values[i] = i % 7 == 0 ? Float.intBitsToFloat(0x7fc01234) : (float) random.nextGaussian(); // a NaN payload too
      }
      ByteBuffer bytes = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
      for (float v : values) {
        bytes.putInt(Float.floatToRawIntBits(v));
      }
      CRC32C crc = new CRC32C();
      crc.update(bytes.flip());
      assertThat(TensorCoder.crc32c(values)).as("%d values", n).isEqualTo((int) crc.getValue());
    }
  }

  /** The format lets a mask be Huffman coded, though the encoder always finds rANS smaller. */
  @Test
  void aHuffmanCodedMaskDecodes() {
    QuantizedTensor t = ContainerTest.prunedLayer(6);
    int[] mask = Arrays.stream(t.index()).map(i -> i == QuantizedTensor.PRUNED ? 0 : 1).toArray();
    int[] lengths = {1, 1};
    Stream huffman = Stream.newBuilder().setCoding(Coding.HUFFMAN)
        .addTables(Table.newBuilder().addValues(1).addValues(1))
        .setData(ByteString.copyFrom(Huffman.encode(mask, lengths))).build();
    CodedTensor c = TensorCoder.encode(t).toBuilder().setPositions(huffman).build();
    assertThat(TensorCoder.decodeIndices(c).index()).isEqualTo(t.index());
    assertThat(TensorCoder.decode(c)).isEqualTo(t.values());
    CodedTensor miscounted = c.toBuilder().setSurvivors(t.survivors() + 1).build();
    assertThatThrownBy(() -> TensorCoder.decode(miscounted)).isInstanceOf(ContainerException.class)
        .hasMessageContaining("positions mark " + t.survivors() + " survivors");
  }

  @Test
  void aMaskWithOtherThanTheHeadersSurvivorsIsRefused() {
    QuantizedTensor t = ContainerTest.prunedLayer(7);
    CodedTensor c = TensorCoder.encode(t);
    for (int survivors : new int[] {0, t.survivors() - 1, t.survivors() + 1}) {
      assertThatThrownBy(() -> TensorCoder.decode(c.toBuilder().setSurvivors(survivors).build()))
          .isInstanceOf(ContainerException.class).hasMessageStartingWith("tensor 'fc1.weight': ")
          .hasMessageContaining("mask holds " + t.survivors() + " ones");
    }
  }

  /** Survivors kept exactly (no quantizer): tens of thousands of distinct values, no codebook. */
  static QuantizedTensor exactLayer(long seed, int levels) {
    SplittableRandom random = new SplittableRandom(seed);
    int entries = 40_000;
    float[] pool = new float[levels];
    for (int k = 0; k < levels; k++) {
      pool[k] = (float) (random.nextGaussian() * 0.05);
    }
    float[] values = new float[entries];
    for (int i = 0; i < entries; i++) {
      values[i] = random.nextDouble() < 0.5 ? 0f : pool[random.nextInt(levels)];
    }
    float[] sorted = values.clone();
    Arrays.sort(sorted);
    int levelsUsed = 0;
    for (float v : sorted) {
      if (v != 0 && (levelsUsed == 0 || v != sorted[levelsUsed - 1])) {
        sorted[levelsUsed++] = v;
      }
    }
    float[] codebook = Arrays.copyOf(sorted, levelsUsed);
    int[] index = new int[entries];
    for (int i = 0; i < entries; i++) {
      index[i] = values[i] == 0 ? QuantizedTensor.PRUNED : Arrays.binarySearch(codebook, values[i]);
    }
    return new QuantizedTensor("fc1.weight", new long[] {200, 200}, codebook, index);
  }

  @Test
  void survivorsWithMoreDistinctValuesThanACodebookTakesAreCodedAsRawValues() {
    QuantizedTensor t = exactLayer(8, 1 << 20);
    assertThat(t.codebook().length).isGreaterThan(io.evoc.protocol.codec.Rans.MAX_SYMBOLS);
    CodedTensor c = TensorCoder.encode(t);
    assertThat(c.hasRawValues()).isTrue();
    assertThat(c.getCodebookCount()).isZero();
    assertThat(c.hasIndices()).isFalse();
    assertThat(TensorCoder.decode(c)).isEqualTo(t.values());
    QuantizedTensor back = TensorCoder.decodeIndices(c);
    assertThat(back.codebook()).isEqualTo(t.codebook());
    assertThat(back.index()).isEqualTo(t.index());
    // Gaussian weights share their sign-and-exponent byte: under 4 bytes a survivor.
    assertThat(ContainerSummary.streamBytes(c.getRawValues())).isLessThan(4L * t.survivors());
  }

  @Test
  void aCodebookIsKeptWhereItPays() {
    QuantizedTensor t = exactLayer(9, 600); // 600 levels, each used about 33 times
    CodedTensor c = TensorCoder.encode(t);
    assertThat(c.hasRawValues()).isFalse();
    assertThat(c.getCodebookCount()).isEqualTo(t.codebook().length);
    assertThat(TensorCoder.decode(c)).isEqualTo(t.values());
  }

  @Test
  void rawValuesAlongsideACodebookAreRefused() {
    CodedTensor raw = TensorCoder.encode(exactLayer(8, 1 << 20));
    CodedTensor both = raw.toBuilder().addCodebook(0.5f).build();
    assertThatThrownBy(() -> TensorCoder.decode(both)).isInstanceOf(ContainerException.class)
        .hasMessageContaining("has raw values and a codebook or indices as well");
  }
}
