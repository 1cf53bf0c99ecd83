package io.evoc.protocol.codec;

import java.util.Arrays;

/**
 * Contexts for a binary mask in rows of {@code stride} entries (a survivor mask: 0 pruned, 1 kept):
 * the run of 0s above an entry in its column (a dead input is pruned in every row) and the run to
 * its left in its row (a dead output unit), each bucketed 0, 1, 2-3, 4-7, 8-15, 16+, so
 * {@value #CONTEXTS} contexts. The encoder takes them through {@link Rans.Context};
 * {@link #decodeOnes} computes the same contexts inline, since masks are most of the symbols a
 * container decodes.
 */
public final class MaskContext implements Rans.Context {
  public static final int CONTEXTS = 36;
  /** Runs from 16 on share the last bucket, so the inline decoder stops counting there. */
  private static final int CAP = 16;

  private final int stride;
  private final int[] columnRun;
  private int rowRun;

  /** Stateful: one per stream, called once per symbol in order. */
  public MaskContext(int stride) {
    if (stride < 1) {
      throw new IllegalArgumentException("row length " + stride);
    }
    this.stride = stride;
    this.columnRun = new int[stride];
  }

  @Override
  public int of(int[] mask, int i) {
    int column = i % stride;
    if (i > 0) {
      int before = (i - 1) % stride;
      columnRun[before] = mask[i - 1] == 1 ? 0 : columnRun[before] + 1;
      rowRun = column == 0 || mask[i - 1] == 1 ? 0 : rowRun + 1;
    }
    return 6 * bucket(columnRun[column]) + bucket(rowRun);
  }

  private static int bucket(int run) {
    return run < 2 ? run : Math.min(5, 32 - Integer.numberOfLeadingZeros(run));
  }

  /**
   * Decodes a mask coded with these contexts ({@value #CONTEXTS} models) or order 0 (one model)
   * and says where its 1s are: what {@link Rans#decode} gives with a fresh {@code MaskContext}
   * (or an order-0 context), without an int per entry or a call per symbol.
   *
   * @param models binary, indexed by context
   * @param ones how many 1s the mask must hold (from the tensor's header)
   * @return the indices of the 1s, ascending, exactly {@code ones} of them
   * @throws CodecException as {@link Rans#decode} does, and when the mask holds another number of 1s
   */
  public static int[] decodeOnes(byte[] data, int count, int stride, Frequencies[] models, int ones) {
    if (stride < 1) {
      throw new IllegalArgumentException("row length " + stride);
    }
    if (count < 0 || ones < 0 || ones > count) {
      throw new CodecException(ones + " ones in a mask of " + count + " entries");
    }
    int[] zeroFreq = zeroFrequencies(models);
    int x = Rans.initialState(data);
    int pos = 4;
    int[] above = new int[Math.min(stride, count)];
    // One spare slot: the loop writes every entry's index and advances only past 1s.
    int[] found = new int[ones + 1];
    int n = 0;
    for (int rowStart = 0, rowEnd; rowStart < count; rowStart = rowEnd) {
      rowEnd = count - rowStart <= stride ? count : rowStart + stride;
      int left = 0;
      for (int i = rowStart, column = 0; i < rowEnd; i++, column++) {
        int up = above[column];
        int f0 = zeroFreq[up * (CAP + 1) + left];
        int slot = x & (Rans.TOTAL - 1);
        int one = slot >= f0 ? 1 : 0;
        x = one == 0 ? f0 * (x >>> Rans.PROB_BITS) + slot
            : (Rans.TOTAL - f0) * (x >>> Rans.PROB_BITS) + slot - f0;
        while (x < Rans.LOW) {
          if (pos >= data.length) {
            throw Rans.truncated(i, count);
          }
          x = (x << 8) | (data[pos++] & 0xff);
        }
        found[Math.min(n, ones)] = i;
        n += one;
        int zero = one - 1; // all bits set after a 0: keeps the runs growing
        above[column] = Math.min(up + 1, CAP) & zero;
        left = Math.min(left + 1, CAP) & zero;
      }
    }
    Rans.checkEnd(data, x, pos);
    if (n != ones) {
      throw new CodecException("mask holds " + n + " ones, " + ones + " expected");
    }
    return Arrays.copyOf(found, ones);
  }

  /** Frequency of 0 by (run above, run left), both capped at {@link #CAP}: the model lookup flattened. */
  private static int[] zeroFrequencies(Frequencies[] models) {
    if (models.length != 1 && models.length != CONTEXTS) {
      throw new IllegalArgumentException(models.length + " models; 1 or " + CONTEXTS + " expected");
    }
    for (Frequencies m : models) {
      if (m.symbols() != 2) {
        throw new IllegalArgumentException("a mask model of " + m.symbols() + " symbols");
      }
    }
    int[] zeroFreq = new int[(CAP + 1) * (CAP + 1)];
    for (int up = 0; up <= CAP; up++) {
      for (int left = 0; left <= CAP; left++) {
        Frequencies m = models[models.length == 1 ? 0 : 6 * bucket(up) + bucket(left)];
        zeroFreq[up * (CAP + 1) + left] = m.freq(0);
      }
    }
    return zeroFreq;
  }
}
