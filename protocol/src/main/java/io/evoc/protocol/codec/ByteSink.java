package io.evoc.protocol.codec;

import java.util.Arrays;

/** Bytes appended one at a time into a growing array: the coders' output. */
final class ByteSink {
  private byte[] bytes;
  private int size;

  ByteSink(int capacity) {
    bytes = new byte[Math.max(16, capacity)];
  }

  void put(byte b) {
    if (size == bytes.length) {
      bytes = Arrays.copyOf(bytes, Math.multiplyExact(bytes.length, 2));
    }
    bytes[size++] = b;
  }

  byte[] toArray() {
    return Arrays.copyOf(bytes, size);
  }

  /** In reverse order of appending (rANS encodes the last symbol first). */
  byte[] reversed() {
    byte[] out = new byte[size];
    for (int i = 0; i < size; i++) {
      out[i] = bytes[size - 1 - i];
    }
    return out;
  }
}
