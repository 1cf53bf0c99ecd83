package io.evoc.protocol.codec;

/**
 * Compact storage for a coder's table (Huffman code lengths, rANS frequencies): each value's
 * difference from the one before (zigzag-mapped to 0, 1, 2, ...) as an Elias-gamma code. Tables
 * over a sorted codebook change slowly from one level to the next, so most differences take 1 to
 * 5 bits instead of a byte or two: on LeNet-5 with a 90-value shared codebook the tables shrink
 * from 460 to about 180 bytes, which was most of the gap between the coded indices and their entropy.
 */
public final class TableCoding {
  /** A gamma code longer than this cannot hold a value the decoder accepts. */
  private static final int MAX_PREFIX = 33;

  private TableCoding() {}

  /** @param values non-negative */
  public static byte[] pack(int[] values) {
    BitWriter out = new BitWriter(values.length / 2 + 4);
    long previous = 0;
    for (int v : values) {
      if (v < 0) {
        throw new IllegalArgumentException("negative table value " + v);
      }
      long delta = v - previous;
      long n = (delta >= 0 ? 2 * delta : -2 * delta - 1) + 1;
      int width = 63 - Long.numberOfLeadingZeros(n);
      out.write(0, width);
      out.write(n, width + 1);
      previous = v;
    }
    return out.finish();
  }

  /**
   * Exactly {@code count} values from all of {@code packed}.
   *
   * @throws CodecException for a truncated or over-long stream, a value outside 0..max, or padding
   *     that is not zero
   */
  public static int[] unpack(byte[] packed, int count, int max) {
    if (count < 0 || count > 8L * packed.length) {
      throw new CodecException(count + " table values cannot come from " + packed.length + " bytes");
    }
    BitReader in = new BitReader(packed);
    int[] values = new int[count];
    long previous = 0;
    for (int i = 0; i < count; i++) {
      int width = 0;
      while (in.read() == 0) {
        if (++width >= MAX_PREFIX) {
          throw new CodecException("table value " + i + ": gamma code too long");
        }
      }
      long n = (1L << width) | in.read(width);
      long zigzag = n - 1;
      long v = previous + ((zigzag & 1) == 0 ? zigzag >>> 1 : -((zigzag + 1) >>> 1));
      if (v < 0 || v > max) {
        throw new CodecException("table value " + i + " is " + v + ", outside 0.." + max);
      }
      values[i] = (int) v;
      previous = v;
    }
    in.checkEnd();
    return values;
  }
}
