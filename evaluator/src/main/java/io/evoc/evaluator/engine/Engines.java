package io.evoc.evaluator.engine;

import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.graph.UnsupportedModelException;
import io.evoc.protocol.model.OnnxModel;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Opens the engine a command asks for. */
public final class Engines {
  private static final Logger LOG = LoggerFactory.getLogger(Engines.class);
  private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

  private Engines() {}

  /**
   * Makes the calling thread compute as the command line's main thread does: PyTorch's grad mode
   * is per thread and on by default, and DJL turns it off only on the thread that started the
   * engine. With it on, a few results came out differently in their last bit (the server's job
   * worker quantized one weight of 235,200 to the neighbouring level), so every thread that
   * scores or quantizes calls this first; distillation turns it on inside its own scope.
   */
  public static void inferenceThread() {
    ai.djl.engine.Engine.getEngine("PyTorch"); // loads libtorch first when nothing has yet
    ai.djl.pytorch.jni.JniUtils.setGradMode(false);
  }

  /**
   * {@code djl}: the fast executor on {@code device}; a graph with ops it does not cover runs
   * whole in ONNX Runtime instead, still reading weights from {@code parameters}. {@code ort}: ONNX
   * Runtime on the CPU with the file's weights, or the table's when one is given.
   */
  public static InferenceEngine open(OnnxModel model, String engine, String device, ParameterTable parameters) {
    return switch (engine) {
      case "djl" -> {
        ParameterTable table = parameters != null ? parameters : ParameterTable.of(model);
        try {
          yield new DjlEngine(model, table, Devices.parse(device));
        } catch (UnsupportedModelException e) {
          if (WARNED.add(model.source())) {
            LOG.warn("{}: the fast executor cannot run {}; running the whole graph in ONNX Runtime"
                + " with the weights fed as inputs", model.source(), e.getMessage());
          }
          yield new OrtEngine(model, table, "ort-fallback");
        }
      }
      case "ort" -> new OrtEngine(model, parameters, "ort");
      default -> throw new IllegalArgumentException("engine '" + engine + "': expected djl or ort");
    };
  }
}
