package io.evoc.evaluator.graph;

/** A node the fast executor cannot run as written: an op, attribute or input form it lacks. */
public final class UnsupportedModelException extends RuntimeException {
  public UnsupportedModelException(String message) {
    super(message);
  }
}
