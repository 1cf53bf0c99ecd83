package io.evoc.protocol.container;

import com.google.protobuf.ByteString;
import io.evoc.protocol.codec.CodecException;
import io.evoc.protocol.codec.Frequencies;
import io.evoc.protocol.codec.Huffman;
import io.evoc.protocol.codec.Rans;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Codes one {@link QuantizedTensor} into a {@link CodedTensor} and back. Each stream is coded
 * every way that applies and the smallest (tables included) is kept:
 * <ul>
 *   <li>the survivor mask: rANS order 0, or rANS with {@value MaskContext#CONTEXTS} contexts: how
 *       many entries have been pruned in a row above in the same column (a dead input is pruned
 *       in every row) and to the left in the same row (a dead output unit), each in 6 buckets;
 *   <li>the codebook indices of the survivors: rANS order 0, or canonical Huffman.
 * </ul>
 * Decoding trusts nothing it reads: counts are bounded by the bytes that could code them before
 * anything is allocated, tables are validated, and the rebuilt values must match the CRC-32C.
 */
public final class TensorCoder {
  /** rANS spends at least log2(2^14 / (2^14 - 1)) bits on a symbol: fewer than 2^17 symbols per byte. */
  private static final long RANS_SYMBOLS_PER_BYTE = 1 << 17;
  private static final long MAX_ENTRIES = Integer.MAX_VALUE - 8;
  private static final Rans.Context ORDER0 = (symbols, i) -> 0;

  private TensorCoder() {}

  public static CodedTensor encode(QuantizedTensor t) {
    int survivors = t.survivors();
    CodedTensor.Builder b = CodedTensor.newBuilder().setName(t.name()).setSurvivors(survivors)
        .setCrc32C(crc32c(t.values()));
    for (long d : t.shape()) {
      b.addShape(d);
    }
    for (float v : t.codebook()) {
      b.addCodebook(v);
    }
    int[] indices = new int[survivors];
    int n = 0;
    for (int i : t.index()) {
      if (i != QuantizedTensor.PRUNED) {
        indices[n++] = i;
      }
    }
    if (survivors < t.index().length) {
      int[] mask = new int[t.index().length];
      for (int i = 0; i < mask.length; i++) {
        mask[i] = t.index()[i] == QuantizedTensor.PRUNED ? 0 : 1;
      }
      int stride = rowLength(t.shape(), mask.length);
      b.setPositions(smallest(List.of(rans(mask, 2, 1, ORDER0),
          rans(mask, 2, MaskContext.CONTEXTS, new MaskContext(stride)))));
    }
    int alphabet = Math.max(1, t.codebook().length);
    b.setIndices(smallest(List.of(rans(indices, alphabet, 1, ORDER0), huffman(indices, alphabet))));
    return b.build();
  }

  /** The tensor's values, checked against its CRC-32C. */
  public static float[] decode(CodedTensor c) {
    return decoded(c).values();
  }

  /** Mask and indices as stored, for inspection; the values are checked against the CRC-32C. */
  public static QuantizedTensor decodeIndices(CodedTensor c) {
    return decoded(c).tensor();
  }

  /** A decoded tensor and its values, built once: the CRC check needs them anyway. */
  private record Decoded(QuantizedTensor tensor, float[] values) {}

  private static Decoded decoded(CodedTensor c) {
    String name = c.getName();
    try {
      long[] shape = c.getShapeList().stream().mapToLong(Long::longValue).toArray();
      long entries = 1;
      for (long d : shape) {
        if (d < 0 || d > MAX_ENTRIES || (entries *= d) > MAX_ENTRIES) {
          throw new CodecException("shape " + Arrays.toString(shape) + " is negative or too large");
        }
      }
      // Decoding holds about 16 bytes per entry (mask, index, value, CRC buffer): refuse what cannot fit.
      long heap = Runtime.getRuntime().maxMemory();
      if (entries > heap / 32) {
        throw new CodecException(entries + " entries need about " + (16 * entries >> 20) + " MB; this JVM has "
            + (heap >> 20) + " MB (raise -Xmx)");
      }
      long survivors = c.getSurvivors();
      if (survivors > entries) {
        throw new CodecException(survivors + " survivors in " + entries + " entries");
      }
      float[] codebook = new float[c.getCodebookCount()];
      for (int i = 0; i < codebook.length; i++) {
        codebook[i] = c.getCodebook(i);
      }
      if (codebook.length > Rans.MAX_SYMBOLS || survivors > 0 && codebook.length == 0) {
        throw new CodecException("codebook of " + codebook.length + " values for " + survivors + " survivors");
      }
      int[] mask = null;
      if (c.hasPositions()) {
        mask = decodeStream(c.getPositions(), (int) entries, 2, rowLength(shape, (int) entries), "positions");
        long ones = Arrays.stream(mask).filter(v -> v == 1).count();
        if (ones != survivors) {
          throw new CodecException("positions mark " + ones + " survivors, the header says " + survivors);
        }
      } else if (survivors != entries) {
        throw new CodecException("no positions, but " + survivors + " of " + entries + " entries survive");
      }
      int[] indices = decodeStream(c.getIndices(), (int) survivors, Math.max(1, codebook.length), 1, "indices");
      int[] index = new int[(int) entries];
      for (int i = 0, n = 0; i < index.length; i++) {
        index[i] = mask == null || mask[i] == 1 ? indices[n++] : QuantizedTensor.PRUNED;
      }
      QuantizedTensor t = new QuantizedTensor(name, shape, codebook, index);
      float[] values = t.values();
      int crc = crc32c(values);
      if (crc != c.getCrc32C()) {
        throw new CodecException("CRC-32C of the rebuilt values is " + Integer.toHexString(crc) + ", stored "
            + Integer.toHexString(c.getCrc32C()));
      }
      return new Decoded(t, values);
    } catch (CodecException | IllegalArgumentException e) {
      throw new ContainerException("tensor '" + name + "': " + e.getMessage());
    }
  }

  /** CRC-32C of float32 values, little-endian. */
  public static int crc32c(float[] values) {
    ByteBuffer bytes = ByteBuffer.allocate(4 * values.length).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(values);
    CRC32C crc = new CRC32C();
    crc.update(bytes);
    return (int) crc.getValue();
  }

  private static Stream smallest(List<Stream> options) {
    Stream best = null;
    for (Stream s : options) {
      if (best == null || s.getSerializedSize() < best.getSerializedSize()) {
        best = s;
      }
    }
    return best;
  }

  /** @param context a fresh one (contexts may keep state), taken once per symbol for counts and coding */
  private static Stream rans(int[] symbols, int alphabet, int contexts, Rans.Context context) {
    int[] of = Rans.contexts(symbols, context);
    long[][] counts = new long[contexts][alphabet];
    for (int i = 0; i < symbols.length; i++) {
      counts[of[i]][symbols[i]]++;
    }
    Frequencies[] models = new Frequencies[contexts];
    Stream.Builder b = Stream.newBuilder().setCoding(contexts == 1 ? Coding.RANS : Coding.RANS_CONTEXT);
    for (int c = 0; c < contexts; c++) {
      models[c] = Frequencies.fromCounts(counts[c]);
      b.addTables(table(models[c].frequencies()));
    }
    return b.setData(ByteString.copyFrom(Rans.encode(symbols, models, of))).build();
  }

  private static Stream huffman(int[] symbols, int alphabet) {
    long[] counts = new long[alphabet];
    for (int s : symbols) {
      counts[s]++;
    }
    int[] lengths = Huffman.lengths(counts);
    return Stream.newBuilder().setCoding(Coding.HUFFMAN).addTables(table(lengths))
        .setData(ByteString.copyFrom(Huffman.encode(symbols, lengths))).build();
  }

  /**
   * @param stride the row length, for the mask's contexts
   */
  private static int[] decodeStream(Stream s, int count, int alphabet, int stride, String what) {
    byte[] data = s.getData().toByteArray();
    List<int[]> tables = new ArrayList<>();
    for (Table t : s.getTablesList()) {
      if (t.getValuesCount() != alphabet) {
        throw new CodecException(what + ": a table of " + t.getValuesCount() + " entries for " + alphabet + " symbols");
      }
      tables.add(t.getValuesList().stream().mapToInt(Integer::intValue).toArray());
    }
    switch (s.getCoding()) {
      case RANS, RANS_CONTEXT -> {
        int contexts = s.getCoding() == Coding.RANS ? 1 : MaskContext.CONTEXTS;
        if (tables.size() != contexts || s.getCoding() == Coding.RANS_CONTEXT && alphabet != 2) {
          throw new CodecException(what + ": " + s.getCoding() + " with " + tables.size() + " tables");
        }
        if (count > (data.length + 1L) * RANS_SYMBOLS_PER_BYTE) {
          throw new CodecException(what + ": " + count + " symbols cannot come from " + data.length + " bytes");
        }
        Frequencies[] models = tables.stream().map(Frequencies::of).toArray(Frequencies[]::new);
        return Rans.decode(data, count, models, contexts == 1 ? ORDER0 : new MaskContext(stride));
      }
      case HUFFMAN -> {
        if (tables.size() != 1) {
          throw new CodecException(what + ": HUFFMAN with " + tables.size() + " tables");
        }
        if (count > 8L * data.length) {
          throw new CodecException(what + ": " + count + " symbols cannot come from " + data.length + " bytes");
        }
        return Huffman.decode(data, count, tables.get(0));
      }
      default -> throw new CodecException(what + ": unknown coding " + s.getCodingValue());
    }
  }

  /**
   * Context of mask entry i: the run of pruned entries above it in its column and the run to its
   * left in its row, each bucketed 0, 1, 2-3, 4-7, 8-15, 16+. Stateful: one per stream, called in order.
   */
  static final class MaskContext implements Rans.Context {
    static final int CONTEXTS = 36;
    private final int stride;
    private final int[] columnRun;
    private int rowRun;

    MaskContext(int stride) {
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
  }

  /** Entries per row: all but the first dimension (a 1-D tensor is one row). */
  static int rowLength(long[] shape, int entries) {
    return shape.length < 2 || shape[0] == 0 ? Math.max(1, entries) : (int) Math.max(1, entries / shape[0]);
  }

  private static Table table(int[] values) {
    Table.Builder t = Table.newBuilder();
    for (int v : values) {
      t.addValues(v);
    }
    return t.build();
  }
}
