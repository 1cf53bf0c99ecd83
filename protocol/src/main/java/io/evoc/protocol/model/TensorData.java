package io.evoc.protocol.model;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.evoc.protocol.onnx.TensorProto;
import io.evoc.protocol.onnx.TensorProto.DataType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * Reads and writes the element data of a {@link TensorProto}, whether it sits in {@code raw_data}
 * (little-endian, fixed width) or in the typed repeated fields.
 */
public final class TensorData {
  private TensorData() {}

  /** Number of elements; a tensor with no dims is a scalar and holds one. */
  public static long elementCount(List<Long> dims) {
    long n = 1;
    for (long d : dims) {
      if (d < 0) {
        throw new IllegalArgumentException("negative dimension " + d);
      }
      n = Math.multiplyExact(n, d);
    }
    return n;
  }

  public static long[] dims(TensorProto t) {
    return t.getDimsList().stream().mapToLong(Long::longValue).toArray();
  }

  /**
   * Checks that a tensor's shape is valid and its stored data holds exactly that many elements
   * (fixed-width types; strings and packed 4-bit types are not checked).
   */
  public static void validate(TensorProto t) {
    long n;
    try {
      n = elementCount(t.getDimsList());
    } catch (IllegalArgumentException | ArithmeticException e) {
      throw new InvalidModelException("tensor '" + t.getName() + "' has an invalid shape " + t.getDimsList());
    }
    int width = DataTypes.byteWidth(t.getDataType());
    if (width == 0) {
      return;
    }
    if (t.hasRawData()) {
      if (t.getRawData().size() != n * width) {
        throw new InvalidModelException("tensor '" + t.getName() + "' has " + t.getRawData().size()
            + " bytes of raw data, its shape " + t.getDimsList() + " needs " + n * width);
      }
      return;
    }
    long stored = switch (DataType.forNumber(t.getDataType())) {
      case FLOAT, COMPLEX64 -> t.getFloatDataCount();
      case DOUBLE, COMPLEX128 -> t.getDoubleDataCount();
      case INT64 -> t.getInt64DataCount();
      case UINT32, UINT64 -> t.getUint64DataCount();
      default -> t.getInt32DataCount();
    };
    long expected = t.getDataType() == DataType.COMPLEX64_VALUE || t.getDataType() == DataType.COMPLEX128_VALUE ? 2 * n : n;
    if (stored != expected) {
      throw new InvalidModelException("tensor '" + t.getName() + "' stores " + stored
          + " elements, its shape " + t.getDimsList() + " needs " + expected);
    }
  }

  /** The elements of a FLOAT tensor. */
  public static float[] floats(TensorProto t) {
    requireType(t, DataType.FLOAT);
    int n = count(t);
    if (t.hasRawData()) {
      float[] out = new float[n];
      raw(t).asFloatBuffer().get(out);
      return out;
    }
    float[] out = new float[n];
    for (int i = 0; i < n; i++) {
      out[i] = t.getFloatData(i);
    }
    return out;
  }

  /** The elements of a DOUBLE tensor. */
  public static double[] doubles(TensorProto t) {
    requireType(t, DataType.DOUBLE);
    int n = count(t);
    if (t.hasRawData()) {
      double[] out = new double[n];
      raw(t).asDoubleBuffer().get(out);
      return out;
    }
    return t.getDoubleDataList().stream().mapToDouble(Double::doubleValue).toArray();
  }

  /** The elements of an integer or boolean tensor, widened to long. */
  public static long[] longs(TensorProto t) {
    DataType type = DataType.forNumber(t.getDataType());
    int n = count(t);
    if (type == null) {
      throw new InvalidModelException("tensor '" + t.getName() + "' has unknown data type " + t.getDataType());
    }
    long[] out = new long[n];
    if (t.hasRawData()) {
      ByteBuffer b = raw(t);
      for (int i = 0; i < n; i++) {
        out[i] = switch (type) {
          case INT64, UINT64 -> b.getLong();
          case INT32 -> b.getInt();
          case UINT32 -> Integer.toUnsignedLong(b.getInt());
          case INT16 -> b.getShort();
          case UINT16 -> Short.toUnsignedInt(b.getShort());
          case INT8 -> b.get();
          case UINT8, BOOL -> Byte.toUnsignedInt(b.get());
          default -> throw notInteger(t);
        };
      }
      return out;
    }
    switch (type) {
      case INT64 -> copy(t.getInt64DataList(), out);
      case UINT32, UINT64 -> copy(t.getUint64DataList(), out);
      case INT32, INT16, INT8, UINT16, UINT8, BOOL -> {
        for (int i = 0; i < n; i++) {
          out[i] = t.getInt32Data(i);
        }
      }
      default -> throw notInteger(t);
    }
    return out;
  }

  /**
   * A copy of {@code t} whose elements are {@code values}, stored as raw data; name, dims and type
   * kept. Whatever data {@code t} held is replaced, so only its dims are checked.
   */
  public static TensorProto withFloats(TensorProto t, float[] values) {
    requireType(t, DataType.FLOAT);
    long n = elementCount(t.getDimsList());
    if (values.length != n) {
      throw new IllegalArgumentException("tensor '" + t.getName() + "' holds " + n + " elements, got " + values.length);
    }
    return t.toBuilder().clearFloatData().setRawData(floatBytes(values)).build();
  }

  /** A new FLOAT tensor with raw data. */
  public static TensorProto floatTensor(String name, long[] dims, float[] values) {
    TensorProto.Builder b = TensorProto.newBuilder().setName(name).setDataType(DataType.FLOAT_VALUE);
    for (long d : dims) {
      b.addDims(d);
    }
    return b.setRawData(floatBytes(values)).build();
  }

  /**
   * Float32 little-endian, one after another: ONNX's raw data, and the layout of every block of
   * floats evoc's own messages carry (a packed repeated float field holds the same bytes).
   */
  public static ByteString floatBytes(float[] values) {
    ByteBuffer buf = ByteBuffer.allocate(Math.multiplyExact(Float.BYTES, values.length)).order(ByteOrder.LITTLE_ENDIAN);
    buf.asFloatBuffer().put(values);
    return UnsafeByteOperations.unsafeWrap(buf.array()); // the array is not kept elsewhere
  }

  /** Fills {@code into} from {@link #floatBytes}' layout; the caller has checked the length. */
  public static void readFloats(ByteString bytes, float[] into) {
    bytes.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(into);
  }

  private static void copy(List<Long> src, long[] out) {
    for (int i = 0; i < out.length; i++) {
      out[i] = src.get(i);
    }
  }

  /** Elements of a tensor whose stored data is checked against its shape (see {@link #validate}). */
  private static int count(TensorProto t) {
    validate(t);
    long n = elementCount(t.getDimsList());
    if (n > Integer.MAX_VALUE) {
      throw new InvalidModelException("tensor '" + t.getName() + "' has " + n + " elements, more than evoc supports");
    }
    return (int) n;
  }

  private static ByteBuffer raw(TensorProto t) {
    return t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
  }

  private static void requireType(TensorProto t, DataType type) {
    if (t.getDataType() != type.getNumber()) {
      throw new IllegalArgumentException("tensor '" + t.getName() + "' is "
          + DataTypes.name(t.getDataType()) + ", not " + DataTypes.name(type.getNumber()));
    }
  }

  private static InvalidModelException notInteger(TensorProto t) {
    return new InvalidModelException("tensor '" + t.getName() + "' is "
        + DataTypes.name(t.getDataType()) + ", expected an integer type");
  }
}
