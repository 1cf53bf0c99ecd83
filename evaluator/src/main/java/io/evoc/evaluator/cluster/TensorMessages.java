package io.evoc.evaluator.cluster;

import com.google.protobuf.ByteString;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.protocol.cluster.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** A scoring batch as the {@link Tensor} message the evaluators fetch: float32, little-endian. */
public final class TensorMessages {
  private TensorMessages() {}

  public static Tensor encode(HostTensor t) {
    ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(4, t.data().length)).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(t.data());
    Tensor.Builder b = Tensor.newBuilder().setData(ByteString.copyFrom(bytes.array()));
    for (long d : t.shape()) {
      b.addShape(d);
    }
    return b.build();
  }

  static HostTensor decode(Tensor t) {
    long[] shape = t.getShapeList().stream().mapToLong(Long::longValue).toArray();
    float[] data = new float[t.getData().size() / 4];
    t.getData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(data);
    return new HostTensor(data, shape);
  }
}
