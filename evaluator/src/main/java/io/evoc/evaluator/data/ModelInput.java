package io.evoc.evaluator.data;

import io.evoc.protocol.model.TensorSpec;
import java.util.Arrays;

/**
 * Fits a data set's samples to a model input's shape. The input's first dimension is the batch;
 * the rest must equal the samples' shape after fitting:
 *
 * <ol>
 *   <li>the same shape, symbolic (-1) dimensions taken from the data;
 *   <li>images stored channels-last [H,W,C] for a channels-first [C,H,W] input, or the reverse,
 *       with C > 1: the samples are transposed, as a reshape would scramble the pixels;
 *   <li>the same dimensions once those of size 1 are set aside, symbolic ones taken from the
 *       data in order (28×28 for [1,?,?]);
 *   <li>the same number of elements: the samples are reshaped (28×28 to 784, 1×28×28 or
 *       28×28×1), a single symbolic dimension taking what is left.
 * </ol>
 *
 * Anything else is a {@link DataException} naming the data, its sample shape and the input.
 */
public final class ModelInput {
  private ModelInput() {}

  /** The data with {@code sampleShape} equal to the input's dims[1:], all of them known. */
  public static DataSet fit(DataSet data, TensorSpec input) {
    long[] dims = input.dims();
    if (dims.length == 0) {
      throw new DataException("model input " + input + " has no batch dimension; evoc feeds "
          + "batches of samples");
    }
    long[] target = Arrays.copyOfRange(dims, 1, dims.length);
    long[] sample = data.sampleShape();
    if (matches(target, sample)) {
      return data.withShape(sample);
    }
    // Channels last <-> first, also when either side carries leading size-1 axes ([1,32,32,3]).
    long[] core = dropLeadingOnes(sample);
    long[] want = dropLeadingOnes(target);
    if (core.length == 3 && want.length == 3) {
      long[] toFirst = {core[2], core[0], core[1]};
      if (core[2] > 1 && matches(want, toFirst)) {
        return data.withValues(transposeEach(data.values(), core[0] * core[1], core[2]), data.storedType())
            .withShape(fillIgnoringOnes(target, toFirst));
      }
      long[] toLast = {core[1], core[2], core[0]};
      if (core[0] > 1 && matches(want, toLast)) {
        return data.withValues(transposeEach(data.values(), core[0], core[1] * core[2]), data.storedType())
            .withShape(fillIgnoringOnes(target, toLast));
      }
    }
    long[] squeezed = fillIgnoringOnes(target, sample);
    if (squeezed != null) {
      return data.withShape(squeezed);
    }
    long[] reshaped = reshape(target, data.elementsPerSample());
    if (reshaped == null) {
      throw new DataException(data.source() + ": samples of shape " + DataSet.shapeText(sample)
          + " do not fit model input " + input);
    }
    return data.withShape(reshaped);
  }

  private static long[] dropLeadingOnes(long[] shape) {
    int i = 0;
    while (i < shape.length - 1 && shape[i] == 1) {
      i++;
    }
    return Arrays.copyOfRange(shape, i, shape.length);
  }

  private static boolean matches(long[] target, long[] shape) {
    if (target.length != shape.length) {
      return false;
    }
    for (int i = 0; i < target.length; i++) {
      if (target[i] >= 0 && target[i] != shape[i]) {
        return false;
      }
    }
    return true;
  }

  /**
   * Target with its symbolic dimensions filled from the data's, matching them in order once the
   * ones of size 1 are set aside on both sides ([28,28] for [1,?,?]), or null.
   */
  private static long[] fillIgnoringOnes(long[] target, long[] sample) {
    long[] data = Arrays.stream(sample).filter(d -> d != 1).toArray();
    long[] filled = target.clone();
    int next = 0;
    for (int i = 0; i < filled.length; i++) {
      if (filled[i] == 1) {
        continue;
      }
      if (next == data.length || filled[i] >= 0 && filled[i] != data[next]) {
        return null;
      }
      filled[i] = data[next++];
    }
    return next == data.length ? filled : null;
  }

  /** Target with at most one symbolic dimension filled so it holds {@code elements}, or null. */
  private static long[] reshape(long[] target, long elements) {
    long known = 1;
    int unknown = -1;
    for (int i = 0; i < target.length; i++) {
      if (target[i] < 0) {
        if (unknown >= 0) {
          return null;
        }
        unknown = i;
      } else {
        known *= target[i];
      }
    }
    if (unknown < 0) {
      return known == elements ? target : null;
    }
    if (known == 0 || elements % known != 0) {
      return null;
    }
    long[] filled = target.clone();
    filled[unknown] = elements / known;
    return filled;
  }

  /**
   * Transposes each sample seen as a rows x cols matrix: HWC to CHW is (H*W) x C, CHW to HWC is
   * C x (H*W).
   */
  private static float[] transposeEach(float[] in, long rows, long cols) {
    int r = (int) rows;
    int c = (int) cols;
    int per = r * c;
    float[] out = new float[in.length];
    for (int base = 0; base < in.length; base += per) {
      for (int i = 0; i < r; i++) {
        for (int j = 0; j < c; j++) {
          out[base + j * r + i] = in[base + i * c + j];
        }
      }
    }
    return out;
  }
}
