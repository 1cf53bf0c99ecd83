package io.evoc.protocol.codec;

/** MSB-first bits out of bytes; reading past the end is an error, never a wrap or a hang. */
final class BitReader {
  private final byte[] data;
  private long bit;

  BitReader(byte[] data) {
    this.data = data;
  }

  int read() {
    if (bit >= 8L * data.length) {
      throw new CodecException("bit stream truncated at bit " + bit);
    }
    int b = (data[(int) (bit >>> 3)] >>> (7 - (int) (bit & 7))) & 1;
    bit++;
    return b;
  }

  /** {@code length} bits, at most 32, as an unsigned number. */
  long read(int length) {
    long v = 0;
    for (int i = 0; i < length; i++) {
      v = (v << 1) | read();
    }
    return v;
  }

  /** Fewer than 8 bits left, all zero: the padding {@link BitWriter#finish} writes. */
  void checkEnd() {
    long left = 8L * data.length - bit;
    if (left >= 8 || left > 0 && (data[data.length - 1] & ((1 << left) - 1)) != 0) {
      throw new CodecException("bit stream damaged: " + left + " bits left over");
    }
  }
}
