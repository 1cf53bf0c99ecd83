package io.evoc.protocol.model;

/**
 * A model file evoc cannot use. The message is one line that names the file and the problem, fit to
 * print to a user as it is.
 */
public final class InvalidModelException extends RuntimeException {
  public InvalidModelException(String message) {
    super(message);
  }

  public InvalidModelException(String message, Throwable cause) {
    super(message, cause);
  }
}
