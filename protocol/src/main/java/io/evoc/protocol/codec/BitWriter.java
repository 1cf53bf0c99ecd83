package io.evoc.protocol.codec;

/** MSB-first bits into bytes, the last byte padded with zeros. */
final class BitWriter {
  private final ByteSink out;
  private long buffer;
  private int bits;

  BitWriter(int capacity) {
    out = new ByteSink(capacity);
  }

  /** The low {@code length} bits of {@code code}, at most 32. */
  void write(long code, int length) {
    for (int left = length; left > 0; ) {
      int n = Math.min(left, 24);
      left -= n;
      buffer = (buffer << n) | ((code >>> left) & ((1L << n) - 1));
      bits += n;
      while (bits >= 8) {
        bits -= 8;
        out.put((byte) (buffer >>> bits));
      }
    }
  }

  byte[] finish() {
    if (bits > 0) {
      out.put((byte) (buffer << (8 - bits)));
      bits = 0;
    }
    return out.toArray();
  }
}
