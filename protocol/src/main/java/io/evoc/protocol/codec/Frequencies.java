package io.evoc.protocol.codec;

import java.util.Arrays;

/**
 * A static symbol model for {@link Rans}: counts scaled to sum to 2^{@value Rans#PROB_BITS}, every
 * symbol that occurs keeping at least 1, with the slot-to-symbol table the decoder looks up.
 * What the container stores per context is {@link #frequencies()}; the rest is derived.
 */
public final class Frequencies {
  private final int[] freq;
  private final int[] start;

  private Frequencies(int[] freq) {
    this.freq = freq;
    this.start = new int[freq.length + 1];
    for (int s = 0; s < freq.length; s++) {
      start[s + 1] = start[s] + freq[s];
    }
    if (start[freq.length] != Rans.TOTAL) {
      throw new CodecException("frequencies sum to " + start[freq.length] + ", not " + Rans.TOTAL);
    }
  }

  /** Scaled from observed counts; symbols with count 0 get frequency 0 and cannot be coded. */
  public static Frequencies fromCounts(long[] counts) {
    if (counts.length == 0 || counts.length > Rans.MAX_SYMBOLS) {
      throw new IllegalArgumentException("alphabet of " + counts.length + " symbols; 1 to " + Rans.MAX_SYMBOLS
          + " supported");
    }
    long total = 0;
    int used = 0;
    for (long c : counts) {
      if (c < 0) {
        throw new IllegalArgumentException("negative count " + c);
      }
      total += c;
      used += c > 0 ? 1 : 0;
    }
    if (used > Rans.TOTAL) {
      throw new IllegalArgumentException(used + " distinct symbols exceed the " + Rans.TOTAL + " slots");
    }
    int[] freq = new int[counts.length];
    if (total == 0) {
      freq[0] = Rans.TOTAL; // an empty stream: any valid table
      return new Frequencies(freq);
    }
    int sum = 0;
    for (int s = 0; s < counts.length; s++) {
      if (counts[s] > 0) {
        freq[s] = (int) Math.max(1, counts[s] * Rans.TOTAL / total);
        sum += freq[s];
      }
    }
    // Rounding leaves the sum off by a little: settle the difference on the symbols where one slot
    // more or less costs least (largest frequencies first), never taking a symbol to 0.
    Integer[] byFreq = new Integer[counts.length];
    for (int s = 0; s < counts.length; s++) {
      byFreq[s] = s;
    }
    Arrays.sort(byFreq, (a, b) -> freq[b] != freq[a] ? Integer.compare(freq[b], freq[a]) : Integer.compare(a, b));
    int i = 0;
    while (sum != Rans.TOTAL) {
      int s = byFreq[i % counts.length];
      if (sum < Rans.TOTAL && freq[s] > 0) {
        freq[s]++;
        sum++;
      } else if (sum > Rans.TOTAL && freq[s] > 1) {
        freq[s]--;
        sum--;
      }
      i++;
    }
    return new Frequencies(freq);
  }

  /** As stored: must sum to 2^PROB_BITS; a damaged table is refused, never trusted. */
  public static Frequencies of(int[] frequencies) {
    Rans.checkAlphabet(frequencies.length);
    long sum = 0;
    for (int f : frequencies) {
      if (f < 0 || f > Rans.TOTAL) {
        throw new CodecException("frequency " + f + " outside 0.." + Rans.TOTAL);
      }
      sum += f;
    }
    if (sum != Rans.TOTAL) {
      throw new CodecException("frequencies sum to " + sum + ", not " + Rans.TOTAL);
    }
    return new Frequencies(frequencies.clone());
  }

  public int[] frequencies() {
    return freq.clone();
  }

  public int symbols() {
    return freq.length;
  }

  int freq(int symbol) {
    return freq[symbol];
  }

  int start(int symbol) {
    return start[symbol];
  }

  /**
   * Slot (x mod 2^PROB_BITS) to symbol: one array read per decoded symbol. Built per decoding, not
   * kept: the encoder never needs it, nor does a binary model decoded by comparing with freq(0).
   */
  short[] symbolAt() {
    short[] symbolAt = new short[Rans.TOTAL];
    for (int s = 0; s < freq.length; s++) {
      Arrays.fill(symbolAt, start[s], start[s + 1], (short) s);
    }
    return symbolAt;
  }

  /** Bits the model spends on {@code counts} (what a coder using it approaches), for choosing coders. */
  public double bits(long[] counts) {
    double bits = 0;
    for (int s = 0; s < counts.length; s++) {
      if (counts[s] > 0) {
        bits += counts[s] * (Rans.PROB_BITS - Math.log(freq[s]) / Math.log(2));
      }
    }
    return bits;
  }
}
