package io.evoc.evaluator.graph;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/** What a kernel may use while it is compiled: the long-lived manager for constants it creates. */
public interface PlanContext {
  /** Owner of arrays that live as long as the executor (Constant values, precomputed indices). */
  NDManager constants();

  /** Registers an array made at plan time so the executor never closes it with a run. */
  NDArray keep(NDArray array);
}
