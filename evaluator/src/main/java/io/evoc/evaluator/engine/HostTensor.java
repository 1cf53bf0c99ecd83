package io.evoc.evaluator.engine;

import java.util.Arrays;

/** A float32 tensor in Java memory: what crosses the evaluator module's API instead of NDArrays. */
public record HostTensor(float[] data, long[] shape) {
  public HostTensor {
    long n = 1;
    for (long d : shape) {
      n *= d;
    }
    if (n != data.length) {
      throw new IllegalArgumentException(data.length + " values for shape " + Arrays.toString(shape));
    }
  }

  /** The first {@code n} entries of the first axis (all when there are fewer); a copy. */
  public HostTensor head(int n) {
    if (shape.length == 0 || n >= shape[0]) {
      return this;
    }
    long[] headShape = shape.clone();
    headShape[0] = n;
    return new HostTensor(Arrays.copyOf(data, n * rowLength()), headShape);
  }

  /** Elements per entry of the first axis (e.g. classes per sample of a [N, classes] output). */
  public int rowLength() {
    return shape.length == 0 || shape[0] == 0 ? data.length : (int) (data.length / shape[0]);
  }
}
