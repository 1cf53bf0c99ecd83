package io.evoc.evaluator.cluster;

import io.evoc.evaluator.engine.HostTensor;
import io.evoc.protocol.cluster.Tensor;
import io.evoc.protocol.model.TensorData;

/** A scoring batch as the {@link Tensor} message the evaluators fetch: float32, little-endian. */
public final class TensorMessages {
  private TensorMessages() {}

  public static Tensor encode(HostTensor t) {
    Tensor.Builder b = Tensor.newBuilder().setData(TensorData.floatBytes(t.data()));
    for (long d : t.shape()) {
      b.addShape(d);
    }
    return b.build();
  }

  static HostTensor decode(Tensor t) {
    long[] shape = t.getShapeList().stream().mapToLong(Long::longValue).toArray();
    float[] data = new float[t.getData().size() / 4];
    TensorData.readFloats(t.getData(), data);
    return new HostTensor(data, shape);
  }
}
