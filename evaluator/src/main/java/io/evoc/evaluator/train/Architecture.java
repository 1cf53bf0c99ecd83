package io.evoc.evaluator.train;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/** The example teacher networks for 28x28 single-channel images in ten classes (Fashion-MNIST). */
public enum Architecture {
  /** 784-300-100-10 with ReLU; input [N, 784]. */
  MLP("mlp", new long[] {784}, List.of(
      new Layer.Dense("fc1", 300), new Layer.Relu(),
      new Layer.Dense("fc2", 100), new Layer.Relu(),
      new Layer.Dense("fc3", 10))),

  /** LeNet-5 with ReLU and max pooling; input [N, 1, 28, 28]. */
  LENET5("lenet5", new long[] {1, 28, 28}, List.of(
      new Layer.Conv("conv1", 6, 5, 2), new Layer.Relu(), new Layer.MaxPool(2),
      new Layer.Conv("conv2", 16, 5, 0), new Layer.Relu(), new Layer.MaxPool(2),
      new Layer.Flatten(),
      new Layer.Dense("fc1", 120), new Layer.Relu(),
      new Layer.Dense("fc2", 84), new Layer.Relu(),
      new Layer.Dense("fc3", 10)));

  /** Images this size, flattened row-major, are what every architecture here takes. */
  public static final int PIXELS = 28 * 28;
  public static final int CLASSES = 10;

  private final String cliName;
  private final long[] sampleShape;
  private final List<Layer> layers;

  Architecture(String cliName, long[] sampleShape, List<Layer> layers) {
    this.cliName = cliName;
    this.sampleShape = sampleShape;
    this.layers = layers;
  }

  /** The name on the command line ({@code --arch mlp}). */
  public String cliName() {
    return cliName;
  }

  /** Shape of one input sample, without the batch dimension. */
  public long[] sampleShape() {
    return sampleShape.clone();
  }

  List<Layer> layers() {
    return layers;
  }

  public static Architecture fromName(String name) {
    for (Architecture a : values()) {
      if (a.cliName.equals(name.toLowerCase(Locale.ROOT))) {
        return a;
      }
    }
    throw new IllegalArgumentException("unknown architecture '" + name + "'; expected one of "
        + Arrays.stream(values()).map(Architecture::cliName).toList());
  }
}
