package io.evoc.evaluator.engine;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.evoc.evaluator.graph.GraphExecutor;
import io.evoc.evaluator.graph.NodeFailedException;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.graph.Tensors;
import io.evoc.protocol.model.OnnxModel;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The fast executor behind the host-array API: each call's native arrays are freed when it returns. */
public final class DjlEngine implements InferenceEngine {
  private final String source;
  private final GraphExecutor executor;
  private final NDManager manager;
  private final Map<String, DirectFloats> feedBuffers = new HashMap<>();

  DjlEngine(OnnxModel model, ParameterTable parameters, Device device) {
    this.source = model.source();
    this.executor = GraphExecutor.create(model, parameters, device);
    this.manager = NDManager.newBaseManager(device, "PyTorch");
  }

  @Override
  public String name() {
    return "djl";
  }

  @Override
  public List<String> outputNames() {
    return executor.outputNames();
  }

  @Override
  public Map<String, HostTensor> run(Map<String, HostTensor> inputs, List<String> outputs) {
    try (NDManager call = manager.newSubManager()) {
      Map<String, NDArray> feeds = new HashMap<>();
      // The call's arrays are closed before the next call refills these buffers.
      inputs.forEach((name, t) -> feeds.put(name, call.create(
          feedBuffers.computeIfAbsent(name, k -> new DirectFloats()).fill(t.data()), new Shape(t.shape()), DataType.FLOAT32)));
      Map<String, NDArray> results;
      try {
        results = executor.run(feeds, outputs, call);
      } catch (NodeFailedException e) {
        throw new EngineException(source + ": " + e.getMessage(), e);
      }
      Map<String, HostTensor> out = new LinkedHashMap<>();
      results.forEach((name, a) -> out.put(name, new HostTensor(Tensors.floats(a), a.getShape().getShape())));
      return out;
    }
  }

  /** See {@link GraphExecutor#startProfiling()}. */
  public Map<String, long[]> startProfiling() {
    return executor.startProfiling();
  }

  /** Arrays the executor keeps between calls; the leak test watches it. */
  public int residentArrayCount() {
    return executor.residentArrayCount() + manager.getManagedArrays().size();
  }

  @Override
  public void close() {
    executor.close();
    manager.close();
  }
}
