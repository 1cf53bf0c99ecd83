package io.evoc.evaluator.data;

import java.util.Arrays;

/**
 * Samples as float32, row-major, one after another, each of {@code sampleShape}; {@code labels} is
 * null when the data has none. Values are as loaded (uint8 data still 0..255) until preprocessing.
 */
public record DataSet(String source, float[] values, long[] sampleShape, int[] labels) {
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

  public int size() {
    return (int) (values.length / elementsPerSample());
  }

  public long elementsPerSample() {
    return elements(sampleShape);
  }

  public boolean hasLabels() {
    return labels != null;
  }

  /** The first {@code n} samples (all of them when n is larger). */
  public DataSet limit(int n) {
    if (n >= size()) {
      return this;
    }
    int per = (int) elementsPerSample();
    return new DataSet(source, Arrays.copyOf(values, n * per), sampleShape,
        labels == null ? null : Arrays.copyOf(labels, n));
  }

  static long elements(long[] shape) {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    return n;
  }
}
