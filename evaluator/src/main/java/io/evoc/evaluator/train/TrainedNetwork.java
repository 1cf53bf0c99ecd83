package io.evoc.evaluator.train;

import java.util.List;

/**
 * A trained teacher as plain arrays: its weights in layer order, and how training went.
 *
 * @param weights per layer, weight before bias, named like {@code fc1.weight}; Dense weights are
 *     [out, in], Conv weights [out, in, kh, kw]
 * @param epochs one entry per epoch, in order
 */
public record TrainedNetwork(TrainSettings settings, List<Weight> weights, List<Epoch> epochs) {
  public TrainedNetwork {
    weights = List.copyOf(weights);
    epochs = List.copyOf(epochs);
  }

  public Architecture architecture() {
    return settings.architecture();
  }

  /** One parameter tensor; row-major values. */
  public record Weight(String name, long[] shape, float[] values) {
    public Weight {
      shape = shape.clone();
      values = values.clone();
      long n = 1;
      for (long d : shape) {
        n *= d;
      }
      if (n != values.length) {
        throw new IllegalArgumentException(name + ": " + values.length + " values for shape "
            + java.util.Arrays.toString(shape));
      }
    }

    @Override
    public long[] shape() {
      return shape.clone();
    }

    @Override
    public float[] values() {
      return values.clone();
    }
  }

  /** Mean loss and accuracy over the epoch's batches, measured while training. */
  public record Epoch(int epoch, double loss, double accuracy, double seconds) {}
}
