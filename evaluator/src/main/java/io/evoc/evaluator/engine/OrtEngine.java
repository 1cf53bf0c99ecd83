package io.evoc.evaluator.engine;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.protocol.model.OnnxModel;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * ONNX Runtime, the independent reference. With a parameter table, the model's float weights become
 * graph inputs fed from the table on every run (re-created only when edited); without one, the
 * weights stay baked into the session as the file has them.
 */
public final class OrtEngine implements InferenceEngine {
  private final String name;
  private final String source;
  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final OrtSession session;
  private final ParameterTable parameters;
  private final Map<String, OnnxTensor> weights = new HashMap<>();
  private final Map<String, Long> versions = new HashMap<>();
  private final Map<String, DirectFloats> buffers = new HashMap<>();
  private final List<String> outputs;

  OrtEngine(OnnxModel model, ParameterTable parameters, String name) {
    this.name = name;
    this.source = model.source();
    this.parameters = parameters;
    OnnxModel runnable = parameters == null ? model : model.withInitializersAsInputs(parameters.names());
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      // evoc reports failures itself, in one line; ORT's own log would print them twice.
      options.setSessionLogLevel(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL);
      this.session = env.createSession(runnable.toBytes(), options);
      this.outputs = new ArrayList<>(session.getOutputNames());
    } catch (OrtException e) {
      throw new EngineException(model.source() + ": ONNX Runtime cannot load the model (" + oneLine(e) + ")", e);
    }
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public List<String> outputNames() {
    return outputs;
  }

  @Override
  public Map<String, HostTensor> run(Map<String, HostTensor> inputs, List<String> requested) {
    Map<String, OnnxTensor> feeds = new HashMap<>();
    List<OnnxTensor> created = new ArrayList<>();
    try {
      for (Map.Entry<String, HostTensor> e : inputs.entrySet()) {
        OnnxTensor t = tensor(e.getKey(), e.getValue().data(), e.getValue().shape());
        created.add(t);
        feeds.put(e.getKey(), t);
      }
      if (parameters != null) {
        feeds.putAll(currentWeights());
      }
      try (OrtSession.Result result = session.run(feeds, new LinkedHashSet<>(requested))) {
        Map<String, HostTensor> out = new LinkedHashMap<>();
        for (String name : requested) {
          out.put(name, host(result.get(name).orElseThrow(), name));
        }
        return out;
      }
    } catch (OrtException e) {
      throw new EngineException(source + ": ONNX Runtime run failed (" + oneLine(e) + ")", e);
    } finally {
      created.forEach(OnnxTensor::close);
    }
  }

  @Override
  public void close() {
    weights.values().forEach(OnnxTensor::close);
    try {
      session.close();
    } catch (OrtException e) {
      throw new EngineException("ONNX Runtime session close failed (" + oneLine(e) + ")", e);
    }
  }

  private Map<String, OnnxTensor> currentWeights() {
    parameters.forEachChanged(versions, (w, e) -> {
      OnnxTensor old = weights.remove(w);
      if (old != null) {
        old.close();
      }
      try {
        weights.put(w, tensor(w, e.values(), e.shape()));
      } catch (OrtException ex) {
        throw new EngineException("ONNX Runtime cannot take weight '" + w + "' (" + oneLine(ex) + ")", ex);
      }
    });
    return weights;
  }

  /** A tensor over the named feed's reusable direct buffer (ONNX Runtime reads it in place). */
  private OnnxTensor tensor(String feed, float[] data, long[] shape) throws OrtException {
    ByteBuffer direct = buffers.computeIfAbsent(feed, k -> new DirectFloats()).fill(data);
    return OnnxTensor.createTensor(env, direct.asFloatBuffer(), shape);
  }

  private static HostTensor host(OnnxValue value, String name) throws OrtException {
    if (!(value instanceof OnnxTensor t)) {
      throw new EngineException("output '" + name + "' is not a tensor");
    }
    TensorInfo info = t.getInfo();
    long[] shape = info.getShape();
    float[] data = new float[(int) info.getNumElements()];
    switch (info.type) {
      case FLOAT -> t.getFloatBuffer().get(data);
      case DOUBLE -> {
        var b = t.getDoubleBuffer();
        for (int i = 0; i < data.length; i++) {
          data[i] = (float) b.get(i);
        }
      }
      case INT64 -> {
        var b = t.getLongBuffer();
        for (int i = 0; i < data.length; i++) {
          data[i] = b.get(i);
        }
      }
      case INT32 -> {
        var b = t.getIntBuffer();
        for (int i = 0; i < data.length; i++) {
          data[i] = b.get(i);
        }
      }
      default -> throw new EngineException("output '" + name + "' has type " + info.type + ", evoc reads numeric outputs");
    }
    return new HostTensor(data, shape);
  }

  static String oneLine(Exception e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl < 0 ? m : m.substring(0, nl);
  }
}
