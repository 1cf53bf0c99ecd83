package io.evoc.protocol.model;

import java.util.Arrays;
import java.util.List;

/**
 * A graph input or output as declared in the model: element type and shape. A dimension that is
 * symbolic or missing is -1, and {@code dimNames} keeps its symbol ("" when it has none).
 */
public record TensorSpec(String name, int elemType, long[] dims, List<String> dimNames) {
  public TensorSpec {
    dims = dims.clone();
    dimNames = List.copyOf(dimNames);
  }

  @Override
  public long[] dims() {
    return dims.clone();
  }

  public int rank() {
    return dims.length;
  }

  /** Product of the dimensions after the first, or -1 when any of them is unknown. */
  public long elementsPerSample() {
    long n = 1;
    for (int i = 1; i < dims.length; i++) {
      if (dims[i] < 0) {
        return -1;
      }
      n *= dims[i];
    }
    return n;
  }

  /** Declared batch size, or -1 when it is symbolic or the shape is scalar. */
  public long fixedBatch() {
    return dims.length == 0 ? -1 : dims[0];
  }

  @Override
  public String toString() {
    StringBuilder s = new StringBuilder(name).append(" ").append(DataTypes.name(elemType)).append("[");
    for (int i = 0; i < dims.length; i++) {
      if (i > 0) {
        s.append(",");
      }
      s.append(dims[i] >= 0 ? Long.toString(dims[i]) : dimNames.get(i).isEmpty() ? "?" : dimNames.get(i));
    }
    return s.append("]").toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorSpec t
        && t.name.equals(name)
        && t.elemType == elemType
        && Arrays.equals(t.dims, dims)
        && t.dimNames.equals(dimNames);
  }

  @Override
  public int hashCode() {
    return name.hashCode() * 31 + Arrays.hashCode(dims);
  }
}
