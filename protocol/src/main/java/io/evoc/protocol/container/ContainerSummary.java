package io.evoc.protocol.container;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Where a container's bytes go, by part, and the two compression ratios.
 *
 * @param positions coded survivor masks
 * @param indices coded codebook indices, or raw values where a tensor has no codebook
 * @param codebooks the codebooks' float32 values, and the grids that stand for some
 * @param graph the ONNX graph without coded data (uncoded tensors, biases say, are in here)
 * @param headers everything else: framing, checksum, field tags, settings
 * @param codedEntries entries of the coded tensors
 */
public record ContainerSummary(long file, long positions, long indices, long codebooks, long graph, long headers,
    long codedEntries, long survivors) {

  public static ContainerSummary of(Container c) {
    long file = ContainerFile.toBytes(c).length;
    long positions = 0;
    long indices = 0;
    long codebooks = 0;
    long entries = 0;
    long survivors = 0;
    for (CodedTensor t : c.getTensorsList()) {
      positions += t.hasPositions() ? streamBytes(t.getPositions()) : 0;
      indices += streamBytes(t.hasRawValues() ? t.getRawValues() : t.getIndices());
      codebooks += 4L * t.getCodebookCount() + (t.hasGrid() ? t.getGrid().getSerializedSize() : 0);
      long n = 1;
      for (long d : t.getShapeList()) {
        n *= d;
      }
      entries += n;
      survivors += t.getSurvivors();
    }
    codebooks += 4L * c.getSharedCodebookCount();
    long graph = c.getGraph().size();
    return new ContainerSummary(file, positions, indices, codebooks, graph,
        file - positions - indices - codebooks - graph, entries, survivors);
  }

  /** Coded bytes of one stream: its data and its tables. */
  public static long streamBytes(Stream s) {
    long n = s.getData().size();
    for (Table t : s.getTablesList()) {
      n += t.getSerializedSize();
    }
    return n;
  }

  /**
   * 32 bits × parameters ÷ the bits that rebuild them, as Deep Compression counts: coded
   * positions, indices and (unless left out) codebooks, and 32 bits for every uncoded parameter.
   *
   * @param parameters float parameters of the source model, coded or not
   */
  public double parameterRatio(long parameters, boolean withCodebooks) {
    double bits = 8.0 * (positions + indices + (withCodebooks ? codebooks : 0)) + 32.0 * (parameters - codedEntries);
    return 32.0 * parameters / bits;
  }

  /** For {@code evoc inspect} and reports. */
  public Map<String, Object> bytesByPart() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("positions", positions);
    m.put("indices", indices);
    m.put("codebooks", codebooks);
    m.put("graph", graph);
    m.put("headers", headers);
    m.put("total", file);
    return m;
  }

  /** Per tensor: name, shape, survivors, codebook size, the coding of each stream and its bytes. */
  public static List<Map<String, Object>> tensors(Container c) {
    List<Map<String, Object>> out = new ArrayList<>();
    for (CodedTensor t : c.getTensorsList()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", t.getName());
      m.put("shape", t.getShapeList());
      m.put("survivors", t.getSurvivors());
      m.put("codebook", t.getUsesSharedCodebook() ? "shared (" + c.getSharedCodebookCount() + ")"
          : t.hasGrid() ? "grid (" + Integer.toUnsignedString(t.getGrid().getLevels()) + ")" : t.getCodebookCount());
      if (t.hasPositions()) {
        m.put("positions", Map.of("coding", t.getPositions().getCoding().name().toLowerCase(java.util.Locale.ROOT),
            "bytes", streamBytes(t.getPositions())));
      }
      Stream values = t.hasRawValues() ? t.getRawValues() : t.getIndices();
      m.put(t.hasRawValues() ? "raw_values" : "indices", Map.of("coding",
          values.getCoding().name().toLowerCase(java.util.Locale.ROOT), "bytes", streamBytes(values)));
      out.add(m);
    }
    return out;
  }
}
