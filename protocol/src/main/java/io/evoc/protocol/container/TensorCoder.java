package io.evoc.protocol.container;

import com.google.protobuf.ByteString;
import io.evoc.protocol.codec.CodecException;
import io.evoc.protocol.codec.Frequencies;
import io.evoc.protocol.codec.Huffman;
import io.evoc.protocol.codec.MaskContext;
import io.evoc.protocol.codec.Rans;
import io.evoc.protocol.codec.TableCoding;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
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
 *   <li>the codebook indices of the survivors: rANS order 0, or canonical Huffman;
 *   <li>a uniform quantizer's codebook as its grid (offset, step, levels) rather than its values;
 *   <li>or, instead of a codebook and indices, where survivors kept exactly have so many distinct
 *       values that a codebook costs more than it saves: the survivors' float32 bits, rANS-coded
 *       in byte planes.
 * </ul>
 * Tables are stored as they are or gamma-coded ({@link TableCoding}), whichever is smaller.
 * Decoding trusts nothing it reads: counts are bounded by the bytes that could code them before
 * anything is allocated, tables are validated, and the rebuilt values must match the CRC-32C.
 */
public final class TensorCoder {
  /** rANS spends at least log2(2^14 / (2^14 - 1)) bits on a symbol: fewer than 2^17 symbols per byte. */
  private static final long RANS_SYMBOLS_PER_BYTE = 1 << 17;
  private static final long MAX_ENTRIES = Integer.MAX_VALUE - 8;
  private static final Rans.Context ORDER0 = (symbols, i) -> 0;
  /** Floats per CRC-32C pass: 64 KB of bytes, which stay in cache between the copy and the CRC. */
  private static final int CRC_CHUNK = 1 << 14;
  /** Codebooks larger than this are also tried against raw values; smaller ones always pay. */
  private static final int RAW_CANDIDATE_LEVELS = 256;
  private static final int PLANES = 4;

  private TensorCoder() {}

  public static CodedTensor encode(QuantizedTensor t) {
    return encode(t, false);
  }

  /** @param sharedCodebook the tensor's codebook is the container's shared one: not stored here */
  public static CodedTensor encode(QuantizedTensor t, boolean sharedCodebook) {
    int survivors = t.survivors();
    CodedTensor.Builder b = CodedTensor.newBuilder().setName(t.name()).setSurvivors(survivors)
        .setCrc32C(crc32c(t.values())).setUsesSharedCodebook(sharedCodebook);
    for (long d : t.shape()) {
      b.addShape(d);
    }
    if (survivors < t.index().length) {
      int[] mask = new int[t.index().length];
      for (int i = 0; i < mask.length; i++) {
        mask[i] = t.index()[i] == QuantizedTensor.PRUNED ? 0 : 1;
      }
      int stride = rowLength(t.shape(), mask.length);
      b.setPositions(smallest(List.of(rans(mask, 2, 1, ORDER0, Coding.RANS),
          rans(mask, 2, MaskContext.CONTEXTS, new MaskContext(stride), Coding.RANS_CONTEXT))));
    }
    if (t.grid() != null) {
      if (sharedCodebook) {
        throw new IllegalArgumentException(t.name() + ": a tensor on a grid does not use the shared codebook");
      }
      return b.setGrid(t.grid()).setIndices(indexStream(t)).build();
    }
    int levels = t.codebook().length;
    if (levels > RAW_CANDIDATE_LEVELS && !sharedCodebook) {
      Stream raw = rawValues(t);
      if (levels > Rans.MAX_SYMBOLS || raw.getSerializedSize() < 4L * levels + indexStream(t).getSerializedSize()) {
        return b.setRawValues(raw).build();
      }
    }
    if (!sharedCodebook) {
      for (float v : t.codebook()) {
        b.addCodebook(v);
      }
    }
    return b.setIndices(indexStream(t)).build();
  }

  private static Stream indexStream(QuantizedTensor t) {
    int[] indices = new int[t.survivors()];
    int n = 0;
    for (int i : t.index()) {
      if (i != QuantizedTensor.PRUNED) {
        indices[n++] = i;
      }
    }
    int alphabet = Math.max(1, t.codebook().length);
    return smallest(List.of(rans(indices, alphabet, 1, ORDER0, Coding.RANS), huffman(indices, alphabet)));
  }

  /** The survivors' float32 bits in byte planes, most significant first, one rANS model per plane. */
  private static Stream rawValues(QuantizedTensor t) {
    int survivors = t.survivors();
    int[] planes = new int[Math.multiplyExact(PLANES, survivors)];
    int k = 0;
    for (int i : t.index()) {
      if (i != QuantizedTensor.PRUNED) {
        int bits = Float.floatToRawIntBits(t.codebook()[i]);
        for (int p = 0; p < PLANES; p++) {
          planes[p * survivors + k] = (bits >>> (24 - 8 * p)) & 0xff;
        }
        k++;
      }
    }
    return rans(planes, 256, PLANES, plane(survivors), Coding.RANS_BYTE_PLANES);
  }

  /** Symbol i of a byte-plane stream of {@code survivors} values belongs to plane i / survivors. */
  private static Rans.Context plane(int survivors) {
    return (symbols, i) -> i / survivors;
  }

  /** The tensor's values, checked against its CRC-32C. */
  public static float[] decode(CodedTensor c) {
    return decode(c, null);
  }

  /** @param shared the container's shared codebook, or null when it has none */
  public static float[] decode(CodedTensor c, float[] shared) {
    return decoded(c, shared).values();
  }

  /** Mask and indices as stored, for inspection; the values are checked against the CRC-32C. */
  public static QuantizedTensor decodeIndices(CodedTensor c) {
    return decodeIndices(c, null);
  }

  /** @param shared the container's shared codebook, or null when it has none */
  public static QuantizedTensor decodeIndices(CodedTensor c, float[] shared) {
    return decoded(c, shared).quantized(c.getName());
  }

  /**
   * A decoded tensor: its survivors' positions (null when all survive) and codebook indices, and
   * the values they make, built once since the CRC check needs them anyway. A tensor coded as raw
   * values has no codebook (null): {@link #quantized} makes one of its distinct values.
   */
  private record Decoded(long[] shape, float[] codebook, UniformGrid grid, int[] positions, int[] indices,
      float[] values) {
    QuantizedTensor quantized(String name) {
      float[] levels = codebook;
      int[] kept = indices;
      if (levels == null) {
        float[] survivors = survivorValues();
        levels = distinctSorted(survivors);
        kept = new int[survivors.length];
        for (int k = 0; k < survivors.length; k++) {
          kept[k] = Arrays.binarySearch(levels, survivors[k]);
        }
      }
      if (positions == null) {
        return new QuantizedTensor(name, shape, levels, kept, grid);
      }
      int[] index = new int[values.length];
      Arrays.fill(index, QuantizedTensor.PRUNED);
      for (int k = 0; k < positions.length; k++) {
        index[positions[k]] = kept[k];
      }
      return new QuantizedTensor(name, shape, levels, index, grid);
    }

    private float[] survivorValues() {
      if (positions == null) {
        return values;
      }
      float[] survivors = new float[positions.length];
      for (int k = 0; k < positions.length; k++) {
        survivors[k] = values[positions[k]];
      }
      return survivors;
    }

    private static float[] distinctSorted(float[] values) {
      float[] sorted = values.clone();
      Arrays.sort(sorted);
      int n = 0;
      for (int i = 0; i < sorted.length; i++) {
        if (n == 0 || Float.compare(sorted[i], sorted[n - 1]) != 0) {
          sorted[n++] = sorted[i];
        }
      }
      return Arrays.copyOf(sorted, n);
    }
  }

  private static Decoded decoded(CodedTensor c, float[] shared) {
    String name = c.getName();
    try {
      long[] shape = new long[c.getShapeCount()];
      long entries = 1;
      for (int i = 0; i < shape.length; i++) {
        long d = shape[i] = c.getShape(i);
        if (d < 0 || d > MAX_ENTRIES || (entries *= d) > MAX_ENTRIES) {
          throw new CodecException("shape " + c.getShapeList() + " is negative or too large");
        }
      }
      // Decoding holds about 16 bytes per entry (values, the index for inspection, positions and
      // indices of the survivors): refuse what cannot fit.
      long heap = Runtime.getRuntime().maxMemory();
      if (entries > heap / 32) {
        throw new CodecException(entries + " entries need about " + (16 * entries >> 20) + " MB; this JVM has "
            + (heap >> 20) + " MB (raise -Xmx)");
      }
      long survivors = c.getSurvivors();
      if (survivors > entries) {
        throw new CodecException(survivors + " survivors in " + entries + " entries");
      }
      if (c.hasRawValues() && (c.getUsesSharedCodebook() || c.getCodebookCount() > 0 || c.hasIndices())) {
        throw new CodecException("has raw values and a codebook or indices as well");
      }
      if (c.hasGrid() && (c.getUsesSharedCodebook() || c.getCodebookCount() > 0 || c.hasRawValues())) {
        throw new CodecException("has a grid and a codebook or raw values as well");
      }
      if (c.getUsesSharedCodebook() && (shared == null || c.getCodebookCount() > 0)) {
        throw new CodecException(shared == null ? "refers to a shared codebook the container does not have"
            : "has its own codebook and refers to the shared one");
      }
      UniformGrid grid = c.hasGrid() ? c.getGrid() : null;
      float[] codebook = grid != null ? Grids.levels(grid)
          : c.getUsesSharedCodebook() ? shared : new float[c.getCodebookCount()];
      for (int i = 0; i < c.getCodebookCount(); i++) {
        codebook[i] = c.getCodebook(i);
      }
      if (codebook.length > Rans.MAX_SYMBOLS || survivors > 0 && codebook.length == 0 && !c.hasRawValues()) {
        throw new CodecException("codebook of " + codebook.length + " values for " + survivors + " survivors");
      }
      int[] positions = null;
      if (c.hasPositions()) {
        positions = positions(c.getPositions(), (int) entries, rowLength(shape, (int) entries), (int) survivors);
      } else if (survivors != entries) {
        throw new CodecException("no positions, but " + survivors + " of " + entries + " entries survive");
      }
      int[] indices = null;
      float[] values;
      if (c.hasRawValues()) {
        values = scatter(rawValues(c.getRawValues(), (int) survivors), positions, (int) entries);
        codebook = null;
      } else {
        indices = decodeStream(c.getIndices(), (int) survivors, Math.max(1, codebook.length), 1, "indices");
        values = values(codebook, positions, indices, (int) entries);
      }
      int crc = crc32c(values);
      if (crc != c.getCrc32C()) {
        throw new CodecException("CRC-32C of the rebuilt values is " + Integer.toHexString(crc) + ", stored "
            + Integer.toHexString(c.getCrc32C()));
      }
      return new Decoded(shape, codebook, grid, positions, indices, values);
    } catch (CodecException | IllegalArgumentException e) {
      throw new ContainerException("tensor '" + name + "': " + e.getMessage());
    }
  }

  /** Codebook values at the survivors' positions, zeros elsewhere. */
  private static float[] values(float[] codebook, int[] positions, int[] indices, int entries) {
    float[] values = new float[entries];
    if (positions == null) {
      for (int k = 0; k < indices.length; k++) {
        values[k] = codebook[indices[k]];
      }
    } else {
      for (int k = 0; k < indices.length; k++) {
        values[positions[k]] = codebook[indices[k]];
      }
    }
    return values;
  }

  /** The survivors' values from their byte planes. */
  private static float[] rawValues(Stream s, int survivors) {
    if (s.getCoding() != Coding.RANS_BYTE_PLANES) {
      throw new CodecException("raw values: coding " + s.getCoding() + ", expected RANS_BYTE_PLANES");
    }
    if ((long) PLANES * survivors > MAX_ENTRIES) {
      throw new CodecException("raw values: " + survivors + " survivors are too many");
    }
    int count = PLANES * survivors;
    int[] bytes = Rans.decode(s.getData().toByteArray(), count, ransModels(s, count, 256, "raw values"),
        plane(survivors));
    float[] values = new float[survivors];
    for (int k = 0; k < survivors; k++) {
      values[k] = Float.intBitsToFloat(bytes[k] << 24 | bytes[survivors + k] << 16 | bytes[2 * survivors + k] << 8
          | bytes[3 * survivors + k]);
    }
    return values;
  }

  /** Survivor values at their positions (null: every entry survives), zeros elsewhere. */
  private static float[] scatter(float[] survivors, int[] positions, int entries) {
    if (positions == null) {
      return survivors;
    }
    float[] values = new float[entries];
    for (int k = 0; k < positions.length; k++) {
      values[positions[k]] = survivors[k];
    }
    return values;
  }

  /** CRC-32C of float32 values, little-endian, taken through a small buffer rather than a copy of them all. */
  public static int crc32c(float[] values) {
    ByteBuffer chunk = ByteBuffer.allocate(4 * Math.min(values.length, CRC_CHUNK)).order(ByteOrder.LITTLE_ENDIAN);
    FloatBuffer floats = chunk.asFloatBuffer();
    CRC32C crc = new CRC32C();
    for (int from = 0; from < values.length; from += CRC_CHUNK) {
      int n = Math.min(CRC_CHUNK, values.length - from);
      floats.clear();
      floats.put(values, from, n);
      crc.update(chunk.array(), 0, 4 * n);
    }
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
  private static Stream rans(int[] symbols, int alphabet, int contexts, Rans.Context context, Coding coding) {
    int[] of = Rans.contexts(symbols, context);
    long[][] counts = new long[contexts][alphabet];
    for (int i = 0; i < symbols.length; i++) {
      counts[of[i]][symbols[i]]++;
    }
    Frequencies[] models = new Frequencies[contexts];
    Stream.Builder b = Stream.newBuilder().setCoding(coding);
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
   * Where the mask's 1s are. The encoder codes masks by rANS, which {@link MaskContext#decodeOnes}
   * decodes without a symbol per entry; any other coding goes through {@link #decodeStream}.
   */
  private static int[] positions(Stream s, int entries, int stride, int survivors) {
    if (s.getCoding() != Coding.RANS && s.getCoding() != Coding.RANS_CONTEXT) {
      int[] mask = decodeStream(s, entries, 2, stride, "positions");
      int ones = 0;
      for (int m : mask) {
        ones += m; // 0 or 1: the alphabet has 2 symbols
      }
      if (ones != survivors) {
        throw new CodecException("positions mark " + ones + " survivors, the header says " + survivors);
      }
      int[] positions = new int[ones];
      for (int i = 0, n = 0; i < mask.length; i++) {
        if (mask[i] == 1) {
          positions[n++] = i;
        }
      }
      return positions;
    }
    return MaskContext.decodeOnes(s.getData().toByteArray(), entries, stride, ransModels(s, entries, 2, "positions"),
        survivors);
  }

  /**
   * @param stride the row length, for the mask's contexts
   */
  private static int[] decodeStream(Stream s, int count, int alphabet, int stride, String what) {
    return switch (s.getCoding()) {
      case RANS, RANS_CONTEXT -> Rans.decode(s.getData().toByteArray(), count, ransModels(s, count, alphabet, what),
          s.getCoding() == Coding.RANS ? ORDER0 : new MaskContext(stride));
      case HUFFMAN -> {
        int[][] tables = tables(s, alphabet, what);
        if (tables.length != 1) {
          throw new CodecException(what + ": HUFFMAN with " + tables.length + " tables");
        }
        if (count > 8L * s.getData().size()) {
          throw new CodecException(what + ": " + count + " symbols cannot come from " + s.getData().size() + " bytes");
        }
        yield Huffman.decode(s.getData().toByteArray(), count, tables[0]);
      }
      default -> throw new CodecException(what + ": unknown coding " + s.getCodingValue());
    };
  }

  /** A rANS stream's models, once its table count and its symbol count have been found possible. */
  private static Frequencies[] ransModels(Stream s, int count, int alphabet, String what) {
    int[][] tables = tables(s, alphabet, what);
    int contexts = switch (s.getCoding()) {
      case RANS_CONTEXT -> MaskContext.CONTEXTS;
      case RANS_BYTE_PLANES -> PLANES;
      default -> 1;
    };
    if (tables.length != contexts || s.getCoding() == Coding.RANS_CONTEXT && alphabet != 2) {
      throw new CodecException(what + ": " + s.getCoding() + " with " + tables.length + " tables");
    }
    if (count > (s.getData().size() + 1L) * RANS_SYMBOLS_PER_BYTE) {
      throw new CodecException(what + ": " + count + " symbols cannot come from " + s.getData().size() + " bytes");
    }
    Frequencies[] models = new Frequencies[contexts];
    for (int c = 0; c < contexts; c++) {
      models[c] = Frequencies.of(tables[c]);
    }
    return models;
  }

  /** The stream's tables, each of one value per symbol. */
  private static int[][] tables(Stream s, int alphabet, String what) {
    int[][] tables = new int[s.getTablesCount()][];
    for (int t = 0; t < tables.length; t++) {
      Table table = s.getTables(t);
      if (!table.getGammaDeltas().isEmpty()) {
        if (table.getValuesCount() > 0) {
          throw new CodecException(what + ": a table stored both ways");
        }
        tables[t] = TableCoding.unpack(table.getGammaDeltas().toByteArray(), alphabet, Rans.TOTAL);
        continue;
      }
      if (table.getValuesCount() != alphabet) {
        throw new CodecException(what + ": a table of " + table.getValuesCount() + " entries for " + alphabet
            + " symbols");
      }
      tables[t] = new int[alphabet];
      for (int v = 0; v < alphabet; v++) {
        tables[t][v] = table.getValues(v);
      }
    }
    return tables;
  }

  /** Entries per row: all but the first dimension (a 1-D tensor is one row). */
  static int rowLength(long[] shape, int entries) {
    return shape.length < 2 || shape[0] == 0 ? Math.max(1, entries) : (int) Math.max(1, entries / shape[0]);
  }

  /** As values or gamma-coded, whichever serializes smaller. */
  private static Table table(int[] values) {
    Table.Builder t = Table.newBuilder();
    for (int v : values) {
      t.addValues(v);
    }
    Table plain = t.build();
    Table gamma = Table.newBuilder().setGammaDeltas(ByteString.copyFrom(TableCoding.pack(values))).build();
    return gamma.getSerializedSize() < plain.getSerializedSize() ? gamma : plain;
  }
}
