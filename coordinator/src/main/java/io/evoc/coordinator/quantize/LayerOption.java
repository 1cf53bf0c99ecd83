package io.evoc.coordinator.quantize;

import io.evoc.protocol.container.QuantizedTensor;
import io.evoc.protocol.container.TensorCoder;

/**
 * One way to quantize one layer: its quantizer and bits, the tensor it gives (pruned entries stay
 * pruned) and that tensor's coded size, measured by coding it.
 */
public record LayerOption(Quantizer quantizer, int bits, QuantizedTensor tensor, long bytes) {

  /**
   * @param weights the layer's weights as the student holds them; zeros are pruned
   * @param effect per entry, its effect on the output, for the weighted quantizers
   */
  public static LayerOption of(String name, long[] shape, float[] weights, float[] effect, Quantizer quantizer,
      int bits) {
    return of(name, shape, weights, quantizer.codebook(survivors(weights), survivors(weights, effect), bits),
        quantizer, bits);
  }

  /** The survivors kept bit for bit: the codebook is their distinct values; labelled "exact/levels". */
  public static LayerOption exact(String name, long[] shape, float[] weights) {
    return of(name, shape, weights, Quantizers.exact(survivors(weights)), null, 32);
  }

  /** The weights rounded to the nearest level of a given codebook ({@code quantizer} null: exact). */
  public static LayerOption of(String name, long[] shape, float[] weights, Codebook codebook, Quantizer quantizer,
      int bits) {
    int[] index = new int[weights.length];
    boolean[] used = new boolean[codebook.size()];
    for (int i = 0; i < weights.length; i++) {
      index[i] = weights[i] == 0 ? QuantizedTensor.PRUNED : codebook.index(weights[i]);
      if (index[i] >= 0) {
        used[index[i]] = true;
      }
    }
    // Levels no weight falls on cost codebook bytes for nothing.
    int[] remap = new int[used.length];
    int kept = 0;
    for (int l = 0; l < used.length; l++) {
      remap[l] = used[l] ? kept++ : -1;
    }
    float[] levels = new float[Math.max(1, kept)];
    for (int l = 0; l < used.length; l++) {
      if (used[l]) {
        levels[remap[l]] = codebook.levels()[l];
      }
    }
    for (int i = 0; i < index.length; i++) {
      if (index[i] >= 0) {
        index[i] = remap[index[i]];
      }
    }
    QuantizedTensor tensor = new QuantizedTensor(name, shape, levels, index);
    return new LayerOption(quantizer, bits, tensor, TensorCoder.encode(tensor).getSerializedSize());
  }

  public float[] values() {
    return tensor.values();
  }

  public String label() {
    return quantizer == null ? "exact/" + tensor.codebook().length : quantizer.label() + "/" + bits;
  }

  static float[] survivors(float[] weights) {
    return survivors(weights, weights);
  }

  /** The entries of {@code of} where {@code weights} is non-zero. */
  static float[] survivors(float[] weights, float[] of) {
    int n = 0;
    for (float w : weights) {
      n += w != 0 ? 1 : 0;
    }
    float[] out = new float[n];
    int k = 0;
    for (int i = 0; i < weights.length; i++) {
      if (weights[i] != 0) {
        out[k++] = of[i];
      }
    }
    return out;
  }
}
