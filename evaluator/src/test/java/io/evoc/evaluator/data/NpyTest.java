package io.evoc.evaluator.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Headers numpy would not write, built by hand; what numpy does write is in DataLoaderTest. */
class NpyTest {
  @Test
  void readsLabelsOfShapeNBy1AndWholeFloatLabels() throws IOException {
    NpyArray ints = read("{'descr': '<i8', 'fortran_order': False, 'shape': (3, 1), }",
        longs(4, 0, 9));
    NpyArray floats = read("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
        doubles(1, 7));

    assertThat(ints.toLabels()).containsExactly(4, 0, 9);
    assertThat(floats.toLabels()).containsExactly(1, 7);
  }

  @Test
  void rejectsLabelsThatAreNotClassIndices() throws IOException {
    NpyArray negative = read("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }",
        longs(3, -1));
    NpyArray fraction = read("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
        doubles(1, 0.5));

    assertThatThrownBy(negative::toLabels)
        .isInstanceOf(DataException.class)
        .hasMessage("t.npy: label -1 at index 1 is not a class index (a non-negative whole number)");
    assertThatThrownBy(fraction::toLabels)
        .hasMessage("t.npy: label 0.5 at index 1 is not a class index (a non-negative whole number)");
  }

  @Test
  void readsOnlyTheRowsAskedFor() throws IOException {
    NpyArray array = read("{'descr': '|u1', 'fortran_order': False, 'shape': (4, 2), }",
        new byte[] {1, 2, 3, 4, 5, 6, 7, (byte) 200}, 3);

    assertThat(array.rowsRead()).isEqualTo(3);
    assertThat(array.toFloats()).containsExactly(1, 2, 3, 4, 5, 6);
    assertThat(array.rows()).isEqualTo(4);
    assertThat(read("{'descr': '|u1', 'fortran_order': False, 'shape': (4, 2), }",
        new byte[] {1, 2, 3, 4, 5, 6, 7, (byte) 200}, 0).toFloats()[7]).isEqualTo(200f);
  }

  @Test
  void rejectsHeadersItCannotUse() {
    assertThatThrownBy(() -> read("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
        new byte[4]))
        .hasMessageStartingWith("t.npy: unsupported dtype (structured arrays are not supported");
    assertThatThrownBy(() -> read("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }",
        new byte[8]))
        .hasMessageStartingWith("t.npy: unsupported dtype '|O'");
    assertThatThrownBy(() -> read("{'descr': '<f4', 'shape': (1,), }", new byte[4]))
        .hasMessage("t.npy: bad .npy header (no 'fortran_order')");
    assertThatThrownBy(() -> read("{'fortran_order': False, 'shape': (1,), }", new byte[4]))
        .hasMessage("t.npy: bad .npy header (no 'descr')");
    assertThatThrownBy(() -> read("{'descr': '<f4', 'fortran_order': False, "
        + "'shape': (4294967296, 4294967296, 4294967296), }", new byte[4]))
        .hasMessage("t.npy: bad .npy header (a shape too large to exist)");
  }

  @Test
  void rejectsArraysWithoutSamples() throws IOException {
    NpyArray scalar = read("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", new byte[4]);
    NpyArray empty = read("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }",
        new byte[0]);
    NpyArray hollow = read("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 0), }",
        new byte[0]);

    assertThatThrownBy(scalar::sampleShape)
        .hasMessage("t.npy: holds a single value, not an array of samples");
    assertThatThrownBy(empty::sampleShape).hasMessage("t.npy: holds no samples (shape [0,3])");
    assertThatThrownBy(hollow::sampleShape).hasMessage("t.npy: samples of shape [0] hold no values");
  }

  private static NpyArray read(String header, byte[] data) throws IOException {
    return read(header, data, 0);
  }

  private static NpyArray read(String header, byte[] data, int maxRows) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] text = header.getBytes(StandardCharsets.ISO_8859_1);
    out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
    out.write(text.length & 0xff);
    out.write(text.length >> 8);
    out.write(text);
    out.write(data);
    return Npy.read(new ByteArrayInputStream(out.toByteArray()), "t.npy", maxRows);
  }

  private static byte[] longs(long... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (long v : values) {
      b.putLong(v);
    }
    return b.array();
  }

  private static byte[] doubles(double... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
    for (double v : values) {
      b.putDouble(v);
    }
    return b.array();
  }
}
