package io.evoc.evaluator.graph;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import io.evoc.protocol.model.OnnxModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GraphExecutorTest {
  private static final Path CNN = Path.of(System.getProperty("evoc.repo.root", ".."), "examples/fixtures/torch-cnn.onnx");

  @Test
  void editedWeightIsUsedOnTheNextRunWithoutRebuilding() {
    OnnxModel model = OnnxModel.read(CNN);
    ParameterTable params = ParameterTable.of(model);
    String conv = params.names().iterator().next();
    try (GraphExecutor exec = GraphExecutor.create(model, params, Device.cpu());
        NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      NDArray x = m.randomNormal(new Shape(2, 1, 28, 28));
      String out = exec.outputNames().get(0);
      float[] before = exec.run(Map.of("input", x), m).get(out).toFloatArray();
      float[] zeroed = new float[params.get(conv).length];
      params.set(conv, zeroed);
      float[] after = exec.run(Map.of("input", x), m).get(out).toFloatArray();
      assertThat(after).isNotEqualTo(before);
      params.set(conv, model.floats(conv));
      assertThat(exec.run(Map.of("input", x), m).get(out).toFloatArray()).containsExactly(before);
    }
  }

  /**
   * A transformer export gathers sizes from a Shape with a scalar index: a view of the Shape's
   * array (here the sequence length, 16, the attention's first axis). Kept past the run (the scorer
   * keeps such tensors for the layers after them), it must still hold its value once the run's
   * arrays are gone and the collector has run.
   */
  @Test
  void aViewOfAShapeKeptPastTheRunKeepsItsValue() {
    OnnxModel model = OnnxModel.read(CNN.resolveSibling("torch-vit.onnx"));
    String length = "/encoder/layers.0/self_attn/Unsqueeze_11_output_0";
    try (GraphExecutor exec = GraphExecutor.create(model, ParameterTable.of(model), Device.cpu());
        NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      NDArray x = m.randomNormal(new Shape(5, 1, 28, 28));
      List<NDArray> kept = new java.util.ArrayList<>();
      for (int run = 0; run < 20; run++) {
        kept.add(exec.run(Map.of("input", x), List.of(length), m).get(length));
        System.gc();
        for (int i = 0; i < 200; i++) {
          java.nio.ByteBuffer.allocateDirect(1 << 12).putLong(0, -1L);
        }
      }
      for (NDArray a : kept) {
        assertThat(a.toLongArray()).containsExactly(16L);
      }
    }
  }

  @Test
  void runStartsFromAnIntermediateTensor() {
    OnnxModel model = OnnxModel.read(CNN);
    ParameterTable params = ParameterTable.of(model);
    String flattened = model.graph().getNodeList().stream()
        .filter(n -> n.getOpType().equals("Flatten")).findFirst().orElseThrow().getOutput(0);
    try (GraphExecutor exec = GraphExecutor.create(model, params, Device.cpu());
        NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      NDArray x = m.randomNormal(new Shape(4, 1, 28, 28));
      String out = exec.outputNames().get(0);
      Map<String, NDArray> full = exec.run(Map.of("input", x), List.of(flattened, out), m);
      NDArray resumed = exec.run(Map.of(flattened, full.get(flattened)), List.of(out), m).get(out);
      assertThat(resumed.toFloatArray()).containsExactly(full.get(out).toFloatArray());
    }
  }

  @Test
  void manyPassesKeepTheLiveArrayCountFlat() {
    OnnxModel model = OnnxModel.read(CNN);
    ParameterTable params = ParameterTable.of(model);
    Random random = new Random(1);
    try (GraphExecutor exec = GraphExecutor.create(model, params, Device.cpu());
        NDManager caller = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      float[] input = new float[8 * 28 * 28];
      exec.run(Map.of("input", caller.create(input, new Shape(8, 1, 28, 28))), caller).values()
          .forEach(NDArray::close);
      int resident = exec.residentArrayCount();
      int callerCount = caller.getManagedArrays().size();
      for (int pass = 0; pass < 3000; pass++) {
        try (NDManager call = caller.newSubManager()) {
          input[random.nextInt(input.length)] = random.nextFloat();
          exec.run(Map.of("input", call.create(input, new Shape(8, 1, 28, 28))), call);
        }
        if (pass % 500 == 0) {
          // An edit re-uploads one weight; it must replace the old copy, not add to it.
          String name = params.names().iterator().next();
          params.set(name, params.get(name));
        }
      }
      assertThat(exec.residentArrayCount()).isEqualTo(resident);
      assertThat(caller.getManagedArrays()).hasSize(callerCount);
    }
  }
}
