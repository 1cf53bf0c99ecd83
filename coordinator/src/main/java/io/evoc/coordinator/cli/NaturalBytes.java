package io.evoc.coordinator.cli;

import com.github.luben.zstd.Zstd;
import io.evoc.protocol.container.QuantizedTensor;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.tukaani.xz.LZMA2Options;
import org.tukaani.xz.XZOutputStream;

/**
 * Quantized tensors as one would hand them to a general-purpose compressor, and what xz -9 and
 * zstd -19 make of them: the baseline evoc's own coding has to beat to be worth its code. Per
 * tensor, one byte per entry (0 pruned, 1 + codebook index), or two bytes little-endian where the
 * codebook has more levels than one byte can name; then every codebook as float32 little-endian.
 * A tensor with more levels than two bytes can name (survivors kept exactly) is its float32 values.
 */
final class NaturalBytes {
  /** Codebook levels one byte holds next to the pruned marker 0. */
  static final int ONE_BYTE_LEVELS = 255;
  static final int TWO_BYTE_LEVELS = 65_535;

  private NaturalBytes() {}

  private static boolean wide(QuantizedTensor t) {
    return t.codebook().length > ONE_BYTE_LEVELS;
  }

  private static boolean floats(QuantizedTensor t) {
    return t.codebook().length > TWO_BYTE_LEVELS;
  }

  private static int bytesPerEntry(QuantizedTensor t) {
    return floats(t) ? 4 : wide(t) ? 2 : 1;
  }

  /** The layout {@link #of} chose for these tensors, in words. */
  static String describe(List<QuantizedTensor> tensors) {
    StringBuilder s = new StringBuilder("per entry 0 pruned or 1 + codebook index, 1 byte");
    List<String> wide = tensors.stream().filter(t -> bytesPerEntry(t) == 2).map(QuantizedTensor::name).toList();
    List<String> floats = tensors.stream().filter(NaturalBytes::floats).map(QuantizedTensor::name).toList();
    if (!wide.isEmpty()) {
      s.append(", 2 bytes LE in ").append(String.join(", ", wide)).append(" (more than ").append(ONE_BYTE_LEVELS)
          .append(" levels)");
    }
    if (!floats.isEmpty()) {
      s.append(", the float32 values in ").append(String.join(", ", floats)).append(" (more than ")
          .append(TWO_BYTE_LEVELS).append(" levels)");
    }
    return s.append("; then the codebooks as float32 LE").toString();
  }

  static byte[] of(List<QuantizedTensor> tensors) {
    List<float[]> codebooks = codebooks(tensors);
    long size = 0;
    for (QuantizedTensor t : tensors) {
      size += (long) bytesPerEntry(t) * t.index().length;
    }
    for (float[] c : codebooks) {
      size += 4L * c.length;
    }
    if (size > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException(size + " natural bytes: more than one Java array holds");
    }
    ByteBuffer out = ByteBuffer.allocate((int) size).order(ByteOrder.LITTLE_ENDIAN);
    for (QuantizedTensor t : tensors) {
      int width = bytesPerEntry(t);
      for (int i : t.index()) {
        int symbol = i == QuantizedTensor.PRUNED ? 0 : i + 1;
        switch (width) {
          case 4 -> out.putFloat(symbol == 0 ? 0f : t.codebook()[i]);
          case 2 -> out.putShort((short) symbol);
          default -> out.put((byte) symbol);
        }
      }
    }
    for (float[] c : codebooks) {
      for (float v : c) {
        out.putFloat(v);
      }
    }
    return out.array();
  }

  /** Each tensor's codebook, or one codebook when all tensors share it (as the container stores it). */
  private static List<float[]> codebooks(List<QuantizedTensor> tensors) {
    List<float[]> all = tensors.stream().filter(t -> !floats(t)).map(QuantizedTensor::codebook).toList();
    boolean shared = all.size() > 1 && all.stream().allMatch(c -> java.util.Arrays.equals(c, all.get(0)));
    return shared ? List.of(all.get(0)) : all;
  }

  static long xz9(byte[] data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (XZOutputStream xz = new XZOutputStream(out, new LZMA2Options(9))) {
      xz.write(data);
    } catch (IOException e) {
      throw new UncheckedIOException("xz into memory failed", e);
    }
    return out.size();
  }

  static long zstd19(byte[] data) {
    return Zstd.compress(data, 19).length;
  }
}
