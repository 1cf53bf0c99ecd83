package io.evoc.protocol.model;

import io.evoc.protocol.onnx.TensorProto.DataType;

/** ONNX element types: names and byte widths. */
public final class DataTypes {
  private DataTypes() {}

  public static String name(int elemType) {
    DataType t = DataType.forNumber(elemType);
    return t == null ? "type" + elemType : t.name().toLowerCase(java.util.Locale.ROOT);
  }

  /** Bytes per element for fixed-width types, 0 for strings, packed 4-bit types and unknown ones. */
  public static int byteWidth(int elemType) {
    DataType t = DataType.forNumber(elemType);
    if (t == null) {
      return 0;
    }
    return switch (t) {
      case UINT8, INT8, BOOL, FLOAT8E4M3FN, FLOAT8E4M3FNUZ, FLOAT8E5M2, FLOAT8E5M2FNUZ -> 1;
      case UINT16, INT16, FLOAT16, BFLOAT16 -> 2;
      case FLOAT, INT32, UINT32 -> 4;
      case INT64, UINT64, DOUBLE, COMPLEX64 -> 8;
      case COMPLEX128 -> 16;
      default -> 0;
    };
  }
}
