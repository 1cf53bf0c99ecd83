package io.evoc.evaluator.graph;

import ai.djl.ndarray.NDArray;

/**
 * One node, compiled: attributes parsed once at plan time, so a run only does tensor work.
 * Inputs the node omits (empty names) arrive as null. Results may be any arrays, including one of
 * the inputs; the executor takes care of their ownership.
 */
@FunctionalInterface
public interface Kernel {
  NDArray[] apply(NDArray[] inputs);
}
