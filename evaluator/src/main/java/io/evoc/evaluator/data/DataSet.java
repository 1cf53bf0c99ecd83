package io.evoc.evaluator.data;

import java.util.Arrays;

/**
 * Samples as float32, row-major, one after another, each of {@code sampleShape}; {@code labels} is
 * null when the data has none. Values are as loaded (uint8 data still 0..255) until {@link
 * Preprocessing} turns them into what the model expects; {@code storedType} says what the file
 * held.
 *
 * <p>The arrays are shared, not copied: treat them as read-only. Every transformation in this
 * package returns a new data set and leaves its input alone.
 */
public record DataSet(
    String source, float[] values, long[] sampleShape, int[] labels, StoredType storedType) {
  public DataSet {
    long per = elements(sampleShape);
    if (per <= 0 || values.length % per != 0) {
      throw new IllegalArgumentException(source + ": " + values.length
          + " values do not split into samples of shape " + Arrays.toString(sampleShape));
    }
    if (labels != null && labels.length != values.length / per) {
      throw new IllegalArgumentException(source + ": " + labels.length + " labels for "
          + values.length / per + " samples");
    }
  }

  /** Values taken as they are ({@link StoredType#FLOAT}). */
  public DataSet(String source, float[] values, long[] sampleShape, int[] labels) {
    this(source, values, sampleShape, labels, StoredType.FLOAT);
  }

  public int size() {
    return (int) (values.length / elementsPerSample());
  }

  public long elementsPerSample() {
    return elements(sampleShape);
  }

  /**
   * Refuses labels that are not class indices of a classifier with {@code classes} outputs: its
   * accuracy on them would be meaningless, not an error.
   */
  public void checkLabels(int classes) {
    if (labels == null) {
      return;
    }
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= classes) {
        throw new DataException(source + ": label " + labels[i] + " at index " + i + " is not one of the model's "
            + classes + " classes");
      }
    }
  }

  public boolean hasLabels() {
    return labels != null;
  }

  /** All samples as one batch tensor, [N, sample shape...], sharing the values. */
  public io.evoc.evaluator.engine.HostTensor batch() {
    long[] shape = new long[sampleShape.length + 1];
    shape[0] = size();
    System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
    return new io.evoc.evaluator.engine.HostTensor(values, shape);
  }

  /** The first {@code n} samples (all of them when n is larger). */
  public DataSet limit(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("limit " + n + " is negative");
    }
    if (n >= size()) {
      return this;
    }
    int per = (int) elementsPerSample();
    return new DataSet(source, Arrays.copyOf(values, n * per), sampleShape,
        labels == null ? null : Arrays.copyOf(labels, n), storedType);
  }

  /** The samples after the first {@code n} (none when n is the size or more). */
  public DataSet skip(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("skip " + n + " is negative");
    }
    int from = Math.min(n, size());
    int per = (int) elementsPerSample();
    return new DataSet(source, Arrays.copyOfRange(values, from * per, values.length), sampleShape,
        labels == null ? null : Arrays.copyOfRange(labels, from, labels.length), storedType);
  }

  /** The same samples seen with another shape of the same element count. */
  DataSet withShape(long[] shape) {
    return new DataSet(source, values, shape, labels, storedType);
  }

  DataSet withValues(float[] newValues, StoredType type) {
    return new DataSet(source, newValues, sampleShape, labels, type);
  }

  static long elements(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }

  static String shapeText(long[] shape) {
    StringBuilder s = new StringBuilder("[");
    for (int i = 0; i < shape.length; i++) {
      s.append(i > 0 ? "," : "").append(shape[i]);
    }
    return s.append("]").toString();
  }
}
