package io.evoc.evaluator.engine;

/** An engine could not load or run a model; the message is one line for the user. */
public final class EngineException extends RuntimeException {
  public EngineException(String message) {
    super(message);
  }

  public EngineException(String message, Throwable cause) {
    super(message, cause);
  }
}
