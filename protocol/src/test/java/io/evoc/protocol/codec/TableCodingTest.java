package io.evoc.protocol.codec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class TableCodingTest {
  @Test
  void tablesComeBackAsTheyWere() {
    SplittableRandom random = new SplittableRandom(3);
    for (int n : new int[] {0, 1, 2, 90, 256, 8192}) {
      int[] values = random.ints(n, 0, Rans.TOTAL + 1).toArray();
      assertThat(TableCoding.unpack(TableCoding.pack(values), n, Rans.TOTAL)).as("%d values", n).isEqualTo(values);
    }
    int[] extremes = {0, Integer.MAX_VALUE, 0, Integer.MAX_VALUE};
    assertThat(TableCoding.unpack(TableCoding.pack(extremes), 4, Integer.MAX_VALUE)).isEqualTo(extremes);
  }

  /** Huffman lengths over a sorted codebook: neighbours differ by 0 or 1, so about 2 bits a value. */
  @Test
  void slowlyChangingTablesTakeAFewBitsAValue() {
    int[] lengths = new int[90];
    for (int i = 0; i < lengths.length; i++) {
      lengths[i] = 4 + Math.abs(i - 45) / 6;
    }
    assertThat(TableCoding.pack(lengths).length).isLessThanOrEqualTo(90 * 2 / 8 + 2);
  }

  @Test
  void damagedTablesAreRefused() {
    int[] values = {7, 7, 8, 9, 3};
    byte[] packed = TableCoding.pack(values);
    assertThatThrownBy(() -> TableCoding.unpack(Arrays.copyOf(packed, packed.length - 1), 5, 15))
        .isInstanceOf(CodecException.class);
    assertThatThrownBy(() -> TableCoding.unpack(packed, 5, 8)).isInstanceOf(CodecException.class)
        .hasMessageContaining("table value 3 is 9, outside 0..8");
    assertThatThrownBy(() -> TableCoding.unpack(packed, 4, 15)).isInstanceOf(CodecException.class)
        .hasMessageContaining("left over");
    assertThatThrownBy(() -> TableCoding.unpack(new byte[8], 1, 15)).isInstanceOf(CodecException.class)
        .hasMessageContaining("too long");
    assertThatThrownBy(() -> TableCoding.unpack(new byte[1], 9, 15)).isInstanceOf(CodecException.class)
        .hasMessageContaining("cannot come from 1 bytes");
    // A zigzag delta below the previous value: 0, then -1.
    assertThatThrownBy(() -> TableCoding.unpack(new byte[] {(byte) 0b1010_0000}, 2, 15))
        .isInstanceOf(CodecException.class).hasMessageContaining("is -1");
  }
}
