package io.evoc.evaluator.engine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A reusable native-order direct buffer for feeding floats to native code. Both DJL and ONNX Runtime
 * copy a heap array into a fresh direct buffer per call otherwise; those are freed only by the
 * garbage collector, which lets the process grow to the JVM's direct-memory limit (6.4 GB measured
 * on the MLP benchmark before this). The previous contents must be dead before the next fill.
 */
public final class DirectFloats {
  private ByteBuffer buffer = ByteBuffer.allocateDirect(0);

  /** The values in a direct buffer of exactly their size, position 0, native byte order. */
  public ByteBuffer fill(float[] values) {
    return fill(values, values.length);
  }

  /** A direct buffer of {@code count} floats, contents undefined, for the caller to fill. */
  public ByteBuffer reserve(int count) {
    int bytes = Math.multiplyExact(count, Float.BYTES);
    if (buffer.capacity() < bytes) {
      buffer = ByteBuffer.allocateDirect(bytes);
    }
    return buffer.duplicate().clear().limit(bytes).slice().order(ByteOrder.nativeOrder());
  }

  /** The first {@code count} values, likewise. */
  public ByteBuffer fill(float[] values, int count) {
    ByteBuffer view = reserve(count);
    view.asFloatBuffer().put(values, 0, count);
    return view;
  }
}
