package io.evoc.evaluator.data;

/**
 * How the source file stored the values a {@link DataSet} holds as floats. It decides what
 * {@code normalize auto} does: only unsigned bytes are taken to be pixels in 0..255.
 */
public enum StoredType {
  /** Unsigned bytes (IDX files, uint8 arrays): 0..255 until normalized. */
  UINT8,
  /** Any other integer type: values as stored. */
  INTEGER,
  /** Floating point, or values already preprocessed. */
  FLOAT
}
