package io.evoc.evaluator.engine;

import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.model.TensorSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** Seeded standard-normal inputs for every graph input, for benchmarks and equality checks. */
public final class RandomInputs {
  private RandomInputs() {}

  /**
   * One tensor per model input, shaped as declared: a symbolic batch dimension becomes {@code
   * batch}, any other symbolic dimension 1.
   */
  public static Map<String, HostTensor> of(OnnxModel model, int batch, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    Map<String, HostTensor> inputs = new LinkedHashMap<>();
    for (TensorSpec spec : model.inputs()) {
      long[] dims = spec.dims();
      long n = 1;
      for (int i = 0; i < dims.length; i++) {
        if (dims[i] < 0) {
          dims[i] = i == 0 ? batch : 1;
        }
        n = Math.multiplyExact(n, dims[i]);
      }
      float[] data = new float[Math.toIntExact(n)];
      for (int i = 0; i < data.length; i++) {
        data[i] = (float) gaussian(random);
      }
      inputs.put(spec.name(), new HostTensor(data, dims));
    }
    return inputs;
  }

  /** Box-Muller: SplittableRandom has no nextGaussian on Java 17. */
  private static double gaussian(SplittableRandom random) {
    double u = 1.0 - random.nextDouble();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.nextDouble());
  }
}
