package io.evoc.evaluator.data;

import java.nio.ByteOrder;

/**
 * A NumPy element type as a {@code .npy} header spells it ({@code '<f4'}, {@code '|u1'}): kind
 * ({@code f} float, {@code i} signed, {@code u} unsigned, {@code b} bool), width in bytes and byte
 * order. Only the types evoc can turn into float inputs or integer labels parse.
 */
record NpyType(char kind, int width, ByteOrder order) {
  static final String SUPPORTED = "float32/64, (u)int8/16/32/64 and bool";

  /** The type, or null when {@code descr} names one evoc does not read. */
  static NpyType parse(String descr) {
    if (descr.length() < 3) {
      return null;
    }
    ByteOrder order = switch (descr.charAt(0)) {
      case '<', '|', '=' -> ByteOrder.LITTLE_ENDIAN;
      case '>' -> ByteOrder.BIG_ENDIAN;
      default -> null;
    };
    char kind = descr.charAt(1);
    int width;
    try {
      width = Integer.parseInt(descr.substring(2));
    } catch (NumberFormatException e) {
      return null;
    }
    boolean known = switch (kind) {
      case 'f' -> width == 4 || width == 8;
      case 'i', 'u' -> width == 1 || width == 2 || width == 4 || width == 8;
      case 'b' -> width == 1;
      default -> false;
    };
    return order != null && known ? new NpyType(kind, width, order) : null;
  }

  StoredType storedType() {
    if (kind == 'f') {
      return StoredType.FLOAT;
    }
    return kind == 'u' && width == 1 ? StoredType.UINT8 : StoredType.INTEGER;
  }

  boolean isFloat() {
    return kind == 'f';
  }
}
