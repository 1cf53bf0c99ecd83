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
}
