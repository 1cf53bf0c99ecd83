package io.evoc.evaluator.cluster;

import io.evoc.protocol.cluster.ReplacedWeight;
import io.evoc.protocol.cluster.StudentPoint;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Student points as messages: a quantized layer (at most 256 distinct values, the finalizer's
 * usual case) goes as its sorted levels and a byte per weight, a quarter of its floats; any other
 * as its floats. Lossless either way: the evaluator scores exactly the weights the coordinator has.
 */
public final class StudentPoints {
  private static final int MAX_LEVELS = 256;

  private StudentPoints() {}

  public static StudentPoint encode(Map<String, float[]> replaced) {
    StudentPoint.Builder point = StudentPoint.newBuilder();
    replaced.forEach((name, values) -> point.addReplaced(encode(name, values)));
    return point.build();
  }

  public static Map<String, float[]> decode(StudentPoint point) {
    Map<String, float[]> replaced = new LinkedHashMap<>();
    for (ReplacedWeight w : point.getReplacedList()) {
      replaced.put(w.getName(), decode(w));
    }
    return replaced;
  }

  private static ReplacedWeight encode(String name, float[] values) {
    ReplacedWeight.Builder w = ReplacedWeight.newBuilder().setName(name);
    // Levels by their bits, so that -0.0 and 0.0 (and any NaN) stay what they were.
    int[] bits = new int[values.length];
    for (int i = 0; i < values.length; i++) {
      bits[i] = Float.floatToRawIntBits(values[i]);
    }
    int[] levels = levels(bits);
    if (levels == null) {
      for (float v : values) {
        w.addValues(v);
      }
      return w.build();
    }
    byte[] indices = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      indices[i] = (byte) Arrays.binarySearch(levels, bits[i]);
    }
    for (int l : levels) {
      w.addLevels(Float.intBitsToFloat(l));
    }
    return w.setIndices(com.google.protobuf.ByteString.copyFrom(indices)).build();
  }

  /** The distinct values, ascending; null when there are more than {@value #MAX_LEVELS}. */
  private static int[] levels(int[] bits) {
    int[] levels = new int[MAX_LEVELS];
    int n = 0;
    for (int b : bits) {
      int at = Arrays.binarySearch(levels, 0, n, b);
      if (at < 0) {
        if (n == MAX_LEVELS) {
          return null;
        }
        at = -at - 1;
        System.arraycopy(levels, at, levels, at + 1, n - at);
        levels[at] = b;
        n++;
      }
    }
    return Arrays.copyOf(levels, n);
  }

  private static float[] decode(ReplacedWeight w) {
    if (w.getLevelsCount() == 0) {
      float[] values = new float[w.getValuesCount()];
      for (int i = 0; i < values.length; i++) {
        values[i] = w.getValues(i);
      }
      return values;
    }
    byte[] indices = w.getIndices().toByteArray();
    float[] values = new float[indices.length];
    for (int i = 0; i < values.length; i++) {
      int level = indices[i] & 0xff;
      if (level >= w.getLevelsCount()) {
        throw new IllegalArgumentException(w.getName() + ": level " + level + " of " + w.getLevelsCount());
      }
      values[i] = w.getLevels(level);
    }
    return values;
  }
}
