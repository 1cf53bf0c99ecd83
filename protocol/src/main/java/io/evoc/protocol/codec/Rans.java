package io.evoc.protocol.codec;

/**
 * Range asymmetric numeral systems (rANS, Duda 2013) with static models: byte-wise renormalization,
 * a 31-bit state, 2^{@value #PROB_BITS} probability slots. Within a fraction of a percent of the
 * model's entropy, and a decoder that does one table read, a multiply and a shift per symbol.
 *
 * <p>Context modelling: each symbol is coded with the model its context selects; the context is a
 * function of the symbols before it, so the decoder derives it as it goes.
 *
 * <p>Integrity: the encoder starts from a known state, so a decoder that ends anywhere else, or
 * with bytes left or missing, has been fed damaged data, and says so.
 */
public final class Rans {
  public static final int PROB_BITS = 14;
  public static final int TOTAL = 1 << PROB_BITS;
  /** Largest alphabet: codebook indices of up to 12 bits, with room for escapes. */
  public static final int MAX_SYMBOLS = 1 << 13;
  /** Lower bound of the normalized state; the state stays in [LOW, LOW << 8). */
  static final int LOW = 1 << 23;

  /**
   * Which model codes symbol i, from the symbols before it. Called once per symbol in order (by the
   * encoder too, in a first pass), so it may keep state; a decoder needs a fresh one.
   */
  @FunctionalInterface
  public interface Context {
    int of(int[] symbols, int i);
  }

  private Rans() {}

  /** A stored alphabet size is checked before anything is allocated for it. */
  static void checkAlphabet(int symbols) {
    if (symbols < 1 || symbols > MAX_SYMBOLS) {
      throw new CodecException("alphabet of " + symbols + " symbols; 1 to " + MAX_SYMBOLS + " supported");
    }
  }

  /**
   * @param context selects {@code models[context.of(symbols, i)]} for symbol i
   * @throws IllegalArgumentException for a symbol its model gives no slot
   */
  public static byte[] encode(int[] symbols, Frequencies[] models, Context context) {
    return encode(symbols, models, contexts(symbols, context));
  }

  /** Each symbol's context, taken forwards as the decoder will (rANS itself codes backwards). */
  public static int[] contexts(int[] symbols, Context context) {
    int[] contexts = new int[symbols.length];
    for (int i = 0; i < symbols.length; i++) {
      contexts[i] = context.of(symbols, i);
    }
    return contexts;
  }

  /**
   * @param contexts symbol i is coded with {@code models[contexts[i]]}; what {@link #contexts}
   *     gives for the decoder's {@link Context}
   * @throws IllegalArgumentException for a symbol its model gives no slot
   */
  public static byte[] encode(int[] symbols, Frequencies[] models, int[] contexts) {
    ByteSink out = new ByteSink(symbols.length / 4 + 16);
    int x = LOW;
    for (int i = symbols.length - 1; i >= 0; i--) {
      Frequencies m = models[contexts[i]];
      int s = symbols[i];
      if (s < 0 || s >= m.symbols() || m.freq(s) == 0) {
        throw new IllegalArgumentException("symbol " + s + " at " + i + " has no slot in its model");
      }
      int f = m.freq(s);
      long limit = ((long) (LOW >>> PROB_BITS) << 8) * f;
      while (x >= limit) {
        out.put((byte) x);
        x >>>= 8;
      }
      x = ((x / f) << PROB_BITS) + (x % f) + m.start(s);
    }
    for (int b = 0; b < 4; b++) {
      out.put((byte) x);
      x >>>= 8;
    }
    return out.reversed();
  }

  /**
   * Decodes exactly {@code count} symbols from all of {@code data}.
   *
   * @throws CodecException when the data is truncated, has bytes left over, or does not end in
   *     the encoder's initial state
   */
  public static int[] decode(byte[] data, int count, Frequencies[] models, Context context) {
    if (count < 0) {
      throw new CodecException("negative symbol count " + count);
    }
    int x = initialState(data);
    int pos = 4;
    int[] symbols = new int[count];
    short[][] symbolAt = new short[models.length][];
    for (int c = 0; c < models.length; c++) {
      symbolAt[c] = models[c].symbolAt();
    }
    for (int i = 0; i < count; i++) {
      int c = context.of(symbols, i);
      if (c < 0 || c >= models.length) {
        throw new CodecException("context " + c + " at symbol " + i + " has no model");
      }
      Frequencies m = models[c];
      int slot = x & (TOTAL - 1);
      int s = symbolAt[c][slot];
      symbols[i] = s;
      x = m.freq(s) * (x >>> PROB_BITS) + slot - m.start(s);
      while (x < LOW) {
        if (pos >= data.length) {
          throw truncated(i, count);
        }
        x = (x << 8) | (data[pos++] & 0xff);
      }
    }
    checkEnd(data, x, pos);
    return symbols;
  }

  /** The state the encoder's last 4 bytes (first in the stream) left; decoding continues at byte 4. */
  static int initialState(byte[] data) {
    if (data.length < 4) {
      throw new CodecException("coded stream of " + data.length + " bytes; at least 4 expected");
    }
    int x = 0;
    for (int pos = 0; pos < 4; pos++) {
      x = (x << 8) | (data[pos] & 0xff);
    }
    if (x < LOW) { // also the negative ints: a top bit set
      throw new CodecException("coded stream starts in an impossible state");
    }
    return x;
  }

  static CodecException truncated(int symbol, int count) {
    return new CodecException("coded stream truncated at symbol " + symbol + " of " + count);
  }

  /** A decoder that read all the bytes and came back to the encoder's initial state read what was coded. */
  static void checkEnd(byte[] data, int x, int pos) {
    if (x != LOW || pos != data.length) {
      throw new CodecException("coded stream damaged: " + (data.length - pos) + " bytes left, final state "
          + (x == LOW ? "as expected" : "wrong"));
    }
  }
}
