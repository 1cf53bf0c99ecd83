package io.evoc.evaluator.data;

import io.evoc.protocol.model.TensorSpec;
import java.nio.FloatBuffer;
import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;

/**
 * How a fitted data set is cut into model calls. An input with a fixed batch dimension (say 1 or
 * 10) is fed exactly that many rows per call, the last call padded with zeros; an input with a
 * symbolic batch is fed chunks of the requested size, the last one shorter and never padded.
 *
 * <p>Feeding a batch copies nothing when it is not padded: {@link #values} returns a view of the
 * data set's array. Only a padded batch is copied, into a buffer the caller owns and reuses. A plan
 * is immutable and may be shared across threads, each with its own buffer:
 *
 * <pre>{@code
 * BatchPlan plan = BatchPlan.of(fitted, input, 1000);
 * float[] buffer = plan.newBuffer();
 * for (Batch b : plan.batches()) {
 *   FloatBuffer x = plan.values(b, buffer);   // b.size() rows of plan.shape(b)
 *   ... run, then keep the first b.count() rows of each output, for samples b.offset() ...
 * }
 * }</pre>
 *
 * @param data the fitted data set (its sample shape is the input's dims[1:])
 * @param batchSize rows per call; every call but the last is full
 * @param padLast whether the last call is padded up to batchSize (fixed batch dimension)
 */
public record BatchPlan(DataSet data, int batchSize, boolean padLast) {
  public BatchPlan {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size " + batchSize + " is not positive");
    }
  }

  /**
   * The plan for feeding {@code fitted} to {@code input}: its fixed batch size when it has one,
   * else {@code requested} samples per call.
   */
  public static BatchPlan of(DataSet fitted, TensorSpec input, int requested) {
    long per = input.elementsPerSample();
    if (per > 0 && per != fitted.elementsPerSample()) {
      throw new IllegalArgumentException(fitted.source() + ": samples of shape "
          + DataSet.shapeText(fitted.sampleShape()) + " are not fitted to " + input);
    }
    long fixed = input.fixedBatch();
    if (fixed > Integer.MAX_VALUE) {
      throw new DataException("model input " + input + ": batch size " + fixed + " is too large");
    }
    if (fixed > 0 && fixed * fitted.elementsPerSample() > Integer.MAX_VALUE - 16) {
      throw new DataException("model input " + input + ": a batch of " + fixed + " samples is too large to feed");
    }
    return fixed > 0
        ? new BatchPlan(fitted, (int) fixed, true)
        : new BatchPlan(fitted, Math.max(1, Math.min(requested, fitted.size())), false);
  }

  /** Number of model calls. */
  public int count() {
    // Not (size + batch - 1) / batch: that overflows for a batch near Integer.MAX_VALUE.
    return data.size() == 0 ? 0 : (data.size() - 1) / batchSize + 1;
  }

  public Batch get(int index) {
    if (index < 0 || index >= count()) {
      throw new IndexOutOfBoundsException("batch " + index + " of " + count());
    }
    int offset = index * batchSize;
    int n = Math.min(batchSize, data.size() - offset);
    return new Batch(index, offset, n, padLast ? batchSize : n);
  }

  /** All the batches in order (computed on access, not stored). */
  public List<Batch> batches() {
    return new AbstractList<>() {
      @Override
      public Batch get(int index) {
        return BatchPlan.this.get(index);
      }

      @Override
      public int size() {
        return count();
      }
    };
  }

  /** The tensor shape of a batch: {@code [b.size(), sample dims...]}. */
  public long[] shape(Batch b) {
    long[] sample = data.sampleShape();
    long[] shape = new long[sample.length + 1];
    shape[0] = b.size();
    System.arraycopy(sample, 0, shape, 1, sample.length);
    return shape;
  }

  /**
   * A buffer for {@link #values}: room for one full batch when this plan pads, else empty, as
   * unpadded batches are views and never touch it.
   */
  public float[] newBuffer() {
    return new float[padLast ? Math.multiplyExact(batchSize, (int) data.elementsPerSample()) : 0];
  }

  /**
   * The batch's {@code b.size() × elementsPerSample} values, from position 0 to the limit: a
   * read-only view of the data set's array when the batch is not padded (no copy; it has no
   * accessible {@code array()}), else {@code buffer} filled with the samples and zeros after them,
   * valid until {@code buffer} is next filled.
   */
  public FloatBuffer values(Batch b, float[] buffer) {
    int per = (int) data.elementsPerSample();
    if (!b.isPadded()) {
      return FloatBuffer.wrap(data.values(), b.offset() * per, b.count() * per)
          .slice().asReadOnlyBuffer();
    }
    int filled = b.count() * per;
    int total = b.size() * per;
    if (buffer.length < total) {
      throw new IllegalArgumentException("buffer of " + buffer.length + " floats for a batch of "
          + total);
    }
    System.arraycopy(data.values(), b.offset() * per, buffer, 0, filled);
    Arrays.fill(buffer, filled, total, 0f);
    return FloatBuffer.wrap(buffer, 0, total).slice();
  }

  /** The labels of the batch's real samples (not the padding), or null without labels. */
  public int[] labels(Batch b) {
    int[] labels = data.labels();
    return labels == null ? null : Arrays.copyOfRange(labels, b.offset(), b.offset() + b.count());
  }
}
