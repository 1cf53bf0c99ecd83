package io.evoc.protocol.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.onnx.TensorProto;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The example MLP through a container and back: coded weights exact, everything else untouched. */
class ModelPackingTest {
  private static final Path MLP = Path.of(System.getProperty("evoc.repo.root", ".."), "examples/models/fashion-mlp.onnx");

  @Test
  void rebuildsTheModelWithTheDecodedWeights() {
    OnnxModel model = OnnxModel.read(MLP);
    Map<String, QuantizedTensor> quantized = new LinkedHashMap<>();
    for (String name : List.of("fc1.weight", "fc2.weight", "fc3.weight")) {
      quantized.put(name, crudeQuantization(name, model));
    }
    Container.Builder c = ContainerTest.container().toBuilder()
        .setGraph(ModelPacking.strippedGraph(model, quantized.keySet()));
    quantized.values().forEach(q -> c.addTensors(TensorCoder.encode(q)));
    byte[] file = ContainerFile.toBytes(c.build());
    assertThat(c.getGraph().size()).as("the graph without its weights").isLessThan(model.toBytes().length / 50);
    assertThat(file.length).as("the container").isLessThan(model.toBytes().length / 8);

    OnnxModel rebuilt = ModelPacking.rebuild(ContainerFile.parse(file, "m.evoc"), "m.evoc");
    for (TensorProto t : model.initializers().values()) {
      float[] expected = quantized.containsKey(t.getName()) ? quantized.get(t.getName()).values() : model.floats(t.getName());
      assertThat(rebuilt.floats(t.getName())).as(t.getName()).containsExactly(expected);
    }
    assertThat(rebuilt.graph().getNodeList()).isEqualTo(model.graph().getNodeList());
    assertThat(OnnxModel.parse(rebuilt.toBytes(), "again").initializers().keySet())
        .isEqualTo(model.initializers().keySet());
  }

  @Test
  void inconsistentContainersAreRefused() {
    OnnxModel model = OnnxModel.read(MLP);
    QuantizedTensor fc3 = crudeQuantization("fc3.weight", model);
    Container base = ContainerTest.container().toBuilder()
        .setGraph(ModelPacking.strippedGraph(model, java.util.Set.of("fc3.weight"))).build();
    Container twice = base.toBuilder().addTensors(TensorCoder.encode(fc3)).addTensors(TensorCoder.encode(fc3)).build();
    assertThatThrownBy(() -> ModelPacking.rebuild(twice, "m.evoc")).hasMessage("m.evoc: tensor 'fc3.weight' is stored twice");
    QuantizedTensor renamed = new QuantizedTensor("nope", fc3.shape(), fc3.codebook(), fc3.index());
    Container stray = base.toBuilder().addTensors(TensorCoder.encode(renamed)).build();
    assertThatThrownBy(() -> ModelPacking.rebuild(stray, "m.evoc")).hasMessageContaining("have no initializer");
    QuantizedTensor reshaped = new QuantizedTensor("fc3.weight", new long[] {fc3.index().length}, fc3.codebook(),
        fc3.index());
    Container wrongShape = base.toBuilder().addTensors(TensorCoder.encode(reshaped)).build();
    assertThatThrownBy(() -> ModelPacking.rebuild(wrongShape, "m.evoc")).hasMessageStartingWith("m.evoc: tensor 'fc3.weight' has shape");
  }

  /**
   * Tensors with one codebook in common (weight sharing) store it once in the container; each
   * decodes through it, and the coded size packing reports is what the container holds. Tensors on
   * grids (the biases here) keep their grids beside it.
   */
  @Test
  void aCodebookCommonToAllTensorsIsStoredOnce() {
    OnnxModel model = OnnxModel.read(MLP);
    float[] levels = {-0.2f, -0.05f, 0.05f, 0.2f};
    List<QuantizedTensor> tensors = new java.util.ArrayList<>();
    for (String name : List.of("fc1.weight", "fc2.weight", "fc3.weight")) {
      QuantizedTensor q = crudeQuantization(name, model);
      int[] index = q.index().clone();
      for (int i = 0; i < index.length; i++) {
        index[i] = index[i] == QuantizedTensor.PRUNED ? index[i] : index[i] * levels.length / 16;
      }
      tensors.add(new QuantizedTensor(name, q.shape(), levels, index));
    }
    for (String name : List.of("fc1.bias", "fc2.bias", "fc3.bias")) {
      tensors.add(Grids.onGrid(name, new long[] {model.floats(name).length}, model.floats(name), 6));
    }
    Container c = ModelPacking.pack(model, new byte[32], tensors, Map.of(), ParetoPoint.getDefaultInstance());
    assertThat(c.getSharedCodebookList()).containsExactly(-0.2f, -0.05f, 0.05f, 0.2f);
    assertThat(c.getTensorsList()).allSatisfy(t -> {
      assertThat(t.getUsesSharedCodebook()).isEqualTo(!t.hasGrid());
      assertThat(t.getCodebookCount()).isZero();
    });
    assertThat(c.getTensorsList()).filteredOn(CodedTensor::hasGrid).hasSize(3);
    OnnxModel rebuilt = ModelPacking.rebuild(ContainerFile.parse(ContainerFile.toBytes(c), "s.evoc"), "s.evoc");
    for (QuantizedTensor t : tensors) {
      assertThat(rebuilt.floats(t.name())).containsExactly(t.values());
    }
    long streams = c.getTensorsList().stream().mapToLong(CodedTensor::getSerializedSize).sum();
    assertThat(ModelPacking.codedBytes(tensors)).isEqualTo(streams + 4L * levels.length);
    long grids = c.getTensorsList().stream().mapToLong(t -> t.getGrid().getSerializedSize()).sum();
    assertThat(ContainerSummary.of(c).codebooks()).isEqualTo(4L * levels.length + grids);
    // A tensor that points at a shared codebook the container lacks is refused, not guessed.
    Container missing = c.toBuilder().clearSharedCodebook().build();
    assertThatThrownBy(() -> ModelPacking.rebuild(missing, "s.evoc")).isInstanceOf(ContainerException.class)
        .hasMessageContaining("shared codebook");
    // Different codebooks: each tensor keeps its own.
    List<QuantizedTensor> own = List.of(crudeQuantization("fc1.weight", model), crudeQuantization("fc2.weight", model));
    Container separate = ModelPacking.pack(model, new byte[32], own, Map.of(), ParetoPoint.getDefaultInstance());
    assertThat(separate.getSharedCodebookCount()).isZero();
    assertThat(separate.getTensorsList()).allSatisfy(t -> assertThat(t.getCodebookCount()).isEqualTo(16));
  }

  /** The smallest 90% by magnitude pruned, the rest rounded to 16 uniform levels. */
  static QuantizedTensor crudeQuantization(String name, OnnxModel model) {
    float[] w = model.floats(name);
    float[] sorted = w.clone();
    for (int i = 0; i < sorted.length; i++) {
      sorted[i] = Math.abs(sorted[i]);
    }
    java.util.Arrays.sort(sorted);
    float threshold = sorted[(int) (0.9 * sorted.length)];
    float max = sorted[sorted.length - 1];
    float[] codebook = new float[16];
    for (int k = 0; k < 16; k++) {
      codebook[k] = -max + k * (2 * max / 15);
    }
    int[] index = new int[w.length];
    for (int i = 0; i < w.length; i++) {
      index[i] = Math.abs(w[i]) < threshold ? QuantizedTensor.PRUNED : Math.round((w[i] + max) / (2 * max / 15));
    }
    long[] shape = model.initializers().get(name).getDimsList().stream().mapToLong(Long::longValue).toArray();
    return new QuantizedTensor(name, shape, codebook, index);
  }

}
