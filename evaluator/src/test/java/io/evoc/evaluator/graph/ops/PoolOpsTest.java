package io.evoc.evaluator.graph.ops;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.evoc.evaluator.graph.Node;
import io.evoc.protocol.onnx.AttributeProto;
import io.evoc.protocol.onnx.NodeProto;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Max pools whose windows tile the input take {@code tiledMax}, whose backward is cheaper; the
 * search's curvature and the distillation run through it, so it must give the values and the
 * gradient of {@code slicedMax}, ties included (ReLU outputs tie at zero, and at a constant where
 * the image is blank), or the same seed would give another model.
 */
class PoolOpsTest {
  @ParameterizedTest
  @CsvSource({"2, 8", "3, 9", "1, 5"})
  void tiledMaxHasTheValuesAndGradientOfSlicedMax(int k, int size) {
    NodeProto proto = NodeProto.newBuilder().setOpType("MaxPool").addInput("x").addOutput("y")
        .addAttribute(ints("kernel_shape", k, k)).addAttribute(ints("strides", k, k)).build();
    Windows w = Windows.of(new Node(proto, 13), null);
    SplittableRandom random = new SplittableRandom(k);
    long[] shape = {3, 4, size, size};
    float[] x = new float[3 * 4 * size * size];
    for (int i = 0; i < x.length; i++) {
      x[i] = Math.max(0, Math.round(random.nextGaussian() * 2) / 2f); // few levels: many ties
    }
    float[] upstream = new float[x.length / (k * k)];
    for (int i = 0; i < upstream.length; i++) {
      upstream[i] = (float) random.nextGaussian();
    }
    float[][] tiled = run(x, shape, upstream, in -> PoolOps.tiledMax(in, w));
    float[][] sliced = run(x, shape, upstream, in -> PoolOps.slicedMax(in, w, new long[4], false));
    assertThat(tiled[0]).as("values").containsExactly(sliced[0]);
    assertThat(tiled[1]).as("gradient").hasSize(sliced[1].length);
    for (int i = 0; i < x.length; i++) {
      assertThat(tiled[1][i] == sliced[1][i]).as("gradient at %d: %s vs %s", i, tiled[1][i], sliced[1][i]).isTrue();
    }
    if (k > 1) {
      long reached = 0;
      for (float g : tiled[1]) {
        reached += g != 0 ? 1 : 0;
      }
      assertThat(reached).as("inputs given a gradient: more than one per window where ties split it")
          .isGreaterThan(upstream.length);
    }
  }

  /** The pool's output, and the gradient of Σ upstream·output with respect to its input. */
  private static float[][] run(float[] x, long[] shape, float[] upstream, Function<NDArray, NDArray> pool) {
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      NDArray in = m.create(x, new Shape(shape));
      in.setRequiresGradient(true);
      float[] values;
      try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
        NDArray out = pool.apply(in);
        values = out.toFloatArray();
        gc.backward(out.mul(m.create(upstream, out.getShape())).sum());
      }
      return new float[][] {values, in.getGradient().toFloatArray()};
    }
  }

  private static AttributeProto ints(String name, long... values) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS)
        .addAllInts(Arrays.stream(values).boxed().toList()).build();
  }
}
