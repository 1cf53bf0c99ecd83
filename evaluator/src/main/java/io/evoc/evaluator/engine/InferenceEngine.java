package io.evoc.evaluator.engine;

import java.util.List;
import java.util.Map;

/**
 * Runs one model on batches of host data. Implementations hold native resources: close them. Not
 * thread-safe: one engine per thread.
 */
public interface InferenceEngine extends AutoCloseable {
  /** "djl", "ort", or "ort-fallback" when the fast executor could not take the graph. */
  String name();

  List<String> outputNames();

  /** Feeds every graph input by name and returns the requested outputs, in the requested order. */
  Map<String, HostTensor> run(Map<String, HostTensor> inputs, List<String> outputs);

  default Map<String, HostTensor> run(Map<String, HostTensor> inputs) {
    return run(inputs, outputNames());
  }

  @Override
  void close();
}
