package io.evoc.evaluator.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.pooling.Pool;
import java.util.ArrayList;
import java.util.List;

/** DJL blocks for an {@link Architecture}, and their weights read back out as arrays. */
final class Networks {
  private Networks() {}

  static SequentialBlock block(Architecture arch) {
    SequentialBlock block = new SequentialBlock();
    for (Layer layer : arch.layers()) {
      block.add(block(layer));
    }
    return block;
  }

  private static Block block(Layer layer) {
    if (layer instanceof Layer.Dense d) {
      return Linear.builder().setUnits(d.units()).build();
    }
    if (layer instanceof Layer.Conv c) {
      return Conv2d.builder()
          .setFilters(c.filters())
          .setKernelShape(new Shape(c.kernel(), c.kernel()))
          .optPadding(new Shape(c.pad(), c.pad()))
          .build();
    }
    if (layer instanceof Layer.MaxPool p) {
      return Pool.maxPool2dBlock(new Shape(p.size(), p.size()), new Shape(p.size(), p.size()));
    }
    if (layer instanceof Layer.Flatten) {
      return Blocks.batchFlattenBlock();
    }
    if (layer instanceof Layer.Relu) {
      return Activation.reluBlock();
    }
    throw new IllegalStateException("no DJL block for " + layer);
  }

  /** The shape of a batch of {@code n} inputs. */
  static Shape inputShape(Architecture arch, long n) {
    long[] sample = arch.sampleShape();
    long[] dims = new long[sample.length + 1];
    dims[0] = n;
    System.arraycopy(sample, 0, dims, 1, sample.length);
    return new Shape(dims);
  }

  /** Copies the trained parameters out of native memory, named after their layers. */
  static List<TrainedNetwork.Weight> weights(Architecture arch, Block block) {
    List<Block> children = block.getChildren().values();
    List<TrainedNetwork.Weight> out = new ArrayList<>();
    for (int i = 0; i < arch.layers().size(); i++) {
      String name = Layer.weightsName(arch.layers().get(i));
      if (name != null) {
        for (String p : List.of("weight", "bias")) {
          NDArray a = children.get(i).getParameters().get(p).getArray();
          out.add(new TrainedNetwork.Weight(name + "." + p, a.getShape().getShape(), a.toFloatArray()));
        }
      }
    }
    return out;
  }
}
