package io.evoc.evaluator.graph;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.evoc.protocol.model.DataTypes;
import io.evoc.protocol.model.TensorData;
import io.evoc.protocol.onnx.TensorProto;

/** Conversions between ONNX tensors and NDArrays. */
public final class Tensors {
  private Tensors() {}

  /** An NDArray holding a tensor's values: float, double, integer and boolean types. */
  public static NDArray fromProto(TensorProto t, NDManager manager) {
    Shape shape = new Shape(TensorData.dims(t));
    TensorProto.DataType type = TensorProto.DataType.forNumber(t.getDataType());
    if (type == null) {
      throw new UnsupportedModelException("tensor '" + t.getName() + "' has unknown type " + t.getDataType());
    }
    return switch (type) {
      case FLOAT -> manager.create(TensorData.floats(t), shape);
      case DOUBLE -> manager.create(TensorData.doubles(t), shape);
      case INT64, UINT32 -> manager.create(TensorData.longs(t), shape);
      case INT32, INT16, UINT16 -> manager.create(toInts(TensorData.longs(t)), shape);
      case INT8 -> manager.create(toBytes(TensorData.longs(t)), shape);
      case UINT8 -> manager.create(toBytes(TensorData.longs(t)), shape).toType(DataType.UINT8, false);
      case BOOL -> {
        long[] v = TensorData.longs(t);
        boolean[] b = new boolean[v.length];
        for (int i = 0; i < v.length; i++) {
          b[i] = v[i] != 0;
        }
        yield manager.create(b, shape);
      }
      default -> throw new UnsupportedModelException(
          "tensor '" + t.getName() + "' is " + DataTypes.name(t.getDataType()) + ", which the executor does not load");
    };
  }

  /** Values of a small integer tensor (shapes, axes, indices) on the host. */
  public static long[] longs(NDArray a) {
    return a.getDataType() == DataType.INT64 ? a.toLongArray() : a.toType(DataType.INT64, false).toLongArray();
  }

  /** A float view of any numeric array, as a host copy. */
  public static float[] floats(NDArray a) {
    return a.getDataType() == DataType.FLOAT32 ? a.toFloatArray() : a.toType(DataType.FLOAT32, false).toFloatArray();
  }

  private static int[] toInts(long[] v) {
    int[] out = new int[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (int) v[i];
    }
    return out;
  }

  private static byte[] toBytes(long[] v) {
    byte[] out = new byte[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (byte) v[i];
    }
    return out;
  }
}
