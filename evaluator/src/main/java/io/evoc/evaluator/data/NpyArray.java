package io.evoc.evaluator.data;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A {@code .npy} array as read: its type and full shape, and the bytes of its first {@code
 * rowsRead} rows (rows are the slices along the first axis).
 *
 * @param headerBytes bytes before the data in the file
 * @param totalBytes bytes of data the header promises, all rows
 */
record NpyArray(String source, NpyType type, long[] shape, int rowsRead, ByteBuffer data,
    long headerBytes, long totalBytes) {

  /** The shape of one sample: all axes but the first, or [1] for a 1-D array. */
  long[] sampleShape() {
    if (shape.length == 0) {
      throw new DataException(source + ": holds a single value, not an array of samples");
    }
    if (shape[0] == 0) {
      throw new DataException(source + ": holds no samples (shape "
          + DataSet.shapeText(shape) + ")");
    }
    long[] sample = shape.length == 1 ? new long[] {1} : Arrays.copyOfRange(shape, 1, shape.length);
    if (DataSet.elements(sample) == 0) {
      throw new DataException(source + ": samples of shape " + DataSet.shapeText(sample)
          + " hold no values");
    }
    return sample;
  }

  long rows() {
    return shape.length == 0 ? 1 : shape[0];
  }

  /** The rows read, as samples of {@link #sampleShape()}. */
  DataSet toDataSet(String name, int[] labels) {
    return new DataSet(name, toFloats(), sampleShape(), labels, type.storedType());
  }

  float[] toFloats() {
    ByteBuffer b = data.duplicate().order(data.order());
    int n = b.remaining() / type.width();
    float[] out = new float[n];
    switch (type.kind()) {
      case 'f' -> {
        if (type.width() == 4) {
          b.asFloatBuffer().get(out);
        } else {
          for (int i = 0; i < n; i++) {
            out[i] = (float) b.getDouble();
          }
        }
      }
      case 'u', 'b' -> {
        for (int i = 0; i < n; i++) {
          out[i] = switch (type.width()) {
            case 1 -> b.get() & 0xff;
            case 2 -> b.getShort() & 0xffff;
            case 4 -> b.getInt() & 0xffffffffL;
            default -> unsignedToFloat(b.getLong());
          };
        }
      }
      default -> {
        for (int i = 0; i < n; i++) {
          out[i] = switch (type.width()) {
            case 1 -> b.get();
            case 2 -> b.getShort();
            case 4 -> b.getInt();
            default -> b.getLong();
          };
        }
      }
    }
    return out;
  }

  /**
   * The rows read as class labels: one non-negative integer per row, from an integer array of
   * shape [N] or [N,1], or a float array holding whole numbers.
   */
  int[] toLabels() {
    if (shape.length == 0 || shape.length > 2 || shape.length == 2 && shape[1] != 1) {
      throw new DataException(source + ": labels of shape " + DataSet.shapeText(shape)
          + " (expected one class index per sample, shape [N] or [N,1])");
    }
    float[] floats = type.isFloat() ? toFloats() : null;
    ByteBuffer b = data.duplicate().order(data.order());
    int[] labels = new int[rowsRead];
    for (int i = 0; i < labels.length; i++) {
      double value = floats != null ? floats[i] : integerAt(b, i);
      if (value < 0 || value > Integer.MAX_VALUE || value != Math.rint(value)) {
        String shown = floats != null ? Float.toString(floats[i]) : Long.toString((long) value);
        throw new DataException(source + ": label " + shown + " at index " + i
            + " is not a class index (a non-negative whole number)");
      }
      labels[i] = (int) value;
    }
    return labels;
  }

  private double integerAt(ByteBuffer b, int i) {
    int at = i * type.width();
    boolean unsigned = type.kind() != 'i';
    return switch (type.width()) {
      case 1 -> unsigned ? b.get(at) & 0xff : b.get(at);
      case 2 -> unsigned ? b.getShort(at) & 0xffff : b.getShort(at);
      case 4 -> unsigned ? b.getInt(at) & 0xffffffffL : b.getInt(at);
      default -> unsigned ? unsignedToFloat(b.getLong(at)) : b.getLong(at);
    };
  }

  private static float unsignedToFloat(long v) {
    return v >= 0 ? v : ((v >>> 1) | (v & 1)) * 2f;
  }
}
