package io.evoc.protocol.codec;

import java.util.Arrays;
import java.util.PriorityQueue;

/**
 * Canonical Huffman codes, lengths limited to {@value #MAX_LENGTH} bits: the simpler coder the
 * container may pick per tensor when it beats rANS (a model is only its code lengths, and a
 * decoder is one table read per symbol). Order 0, no contexts.
 */
public final class Huffman {
  public static final int MAX_LENGTH = 15;

  private Huffman() {}

  /** Code lengths for the counts (0 for unused symbols), at most {@value #MAX_LENGTH} bits. */
  public static int[] lengths(long[] counts) {
    long[] c = counts.clone();
    while (true) {
      int[] lengths = unlimitedLengths(c);
      if (Arrays.stream(lengths).max().orElse(0) <= MAX_LENGTH) {
        return lengths;
      }
      // Flatten the distribution until the deepest code fits: costs a little, and only on rare symbols.
      for (int s = 0; s < c.length; s++) {
        c[s] = c[s] == 0 ? 0 : Math.max(1, c[s] / 2);
      }
    }
  }

  private static int[] unlimitedLengths(long[] counts) {
    int[] lengths = new int[counts.length];
    PriorityQueue<long[]> queue = new PriorityQueue<>((a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0])
        : Long.compare(a[1], b[1]));
    int[] parent = new int[2 * counts.length];
    int next = counts.length;
    for (int s = 0; s < counts.length; s++) {
      if (counts[s] > 0) {
        queue.add(new long[] {counts[s], s});
      }
    }
    if (queue.size() == 1) {
      lengths[(int) queue.peek()[1]] = 1;
      return lengths;
    }
    while (queue.size() > 1) {
      long[] a = queue.poll();
      long[] b = queue.poll();
      parent[(int) a[1]] = next;
      parent[(int) b[1]] = next;
      queue.add(new long[] {a[0] + b[0], next++});
    }
    int root = next - 1;
    for (int s = 0; s < counts.length; s++) {
      if (counts[s] > 0) {
        int depth = 0;
        for (int n = s; n != root; n = parent[n]) {
          depth++;
        }
        lengths[s] = depth;
      }
    }
    return lengths;
  }

  public static byte[] encode(int[] symbols, int[] lengths) {
    int[] codes = canonicalCodes(validated(lengths));
    BitWriter out = new BitWriter(symbols.length / 2 + 8);
    for (int i = 0; i < symbols.length; i++) {
      int s = symbols[i];
      if (s < 0 || s >= lengths.length || lengths[s] == 0) {
        throw new IllegalArgumentException("symbol " + s + " at " + i + " has no code");
      }
      out.write(codes[s], lengths[s]);
    }
    return out.finish();
  }

  /**
   * Decodes exactly {@code count} symbols from all of {@code data}.
   *
   * @throws CodecException for invalid lengths, a truncated stream, bytes left over or nonzero padding
   */
  public static int[] decode(byte[] data, int count, int[] lengths) {
    if (count < 0) {
      throw new CodecException("negative symbol count " + count);
    }
    int[] codes = canonicalCodes(validated(lengths));
    // One entry per prefix of the longest code's width (not always MAX_LENGTH: a table of 2^15 would
    // cost more than decoding a small tensor): (symbol << 4) | length, or 0 where no code starts.
    int width = Math.max(1, Arrays.stream(lengths).max().orElse(0));
    int[] table = new int[1 << width];
    for (int s = 0; s < lengths.length; s++) {
      if (lengths[s] > 0) {
        int shift = width - lengths[s];
        Arrays.fill(table, codes[s] << shift, (codes[s] + 1) << shift, (s << 4) | lengths[s]);
      }
    }
    int[] symbols = new int[count];
    long totalBits = 8L * data.length;
    long bit = 0;
    for (int i = 0; i < count; i++) {
      int entry = table[peek(data, bit, width)];
      if (entry == 0) {
        throw new CodecException("no code matches at bit " + bit);
      }
      bit += entry & 15;
      if (bit > totalBits) {
        throw new CodecException("coded stream truncated at symbol " + i + " of " + count);
      }
      symbols[i] = entry >>> 4;
    }
    // Fewer than 8 bits left, all in the last byte, and all padding zeros.
    long left = totalBits - bit;
    if (left >= 8 || left > 0 && (data[data.length - 1] & ((1 << left) - 1)) != 0) {
      throw new CodecException("coded stream damaged: " + left + " bits left over");
    }
    return symbols;
  }

  /** The next {@code width} bits from {@code bit} on, MSB first, zeros past the end. */
  private static int peek(byte[] data, long bit, int width) {
    int byteAt = (int) (bit >>> 3);
    int window = 0;
    for (int b = 0; b < 3; b++) {
      window = (window << 8) | (byteAt + b < data.length ? data[byteAt + b] & 0xff : 0);
    }
    return (window >>> (24 - width - (int) (bit & 7))) & ((1 << width) - 1);
  }

  /** Lengths within range that satisfy Kraft's inequality: a stored table is never trusted. */
  private static int[] validated(int[] lengths) {
    Rans.checkAlphabet(lengths.length);
    long kraft = 0;
    for (int l : lengths) {
      if (l < 0 || l > MAX_LENGTH) {
        throw new CodecException("code length " + l + " outside 0.." + MAX_LENGTH);
      }
      kraft += l == 0 ? 0 : 1L << (MAX_LENGTH - l);
    }
    if (kraft > 1L << MAX_LENGTH) {
      throw new CodecException("code lengths over-subscribe the code space");
    }
    return lengths;
  }

  /** Codes assigned in order of (length, symbol): the lengths alone define them. */
  private static int[] canonicalCodes(int[] lengths) {
    int[] perLength = new int[MAX_LENGTH + 1];
    for (int l : lengths) {
      perLength[l]++;
    }
    perLength[0] = 0;
    int[] next = new int[MAX_LENGTH + 2];
    int code = 0;
    for (int l = 1; l <= MAX_LENGTH; l++) {
      code = (code + perLength[l - 1]) << 1;
      next[l] = code;
    }
    int[] codes = new int[lengths.length];
    for (int s = 0; s < lengths.length; s++) {
      if (lengths[s] > 0) {
        codes[s] = next[lengths[s]]++;
      }
    }
    return codes;
  }
}
