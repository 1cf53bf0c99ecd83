package io.evoc.evaluator.data;

/** Data evoc cannot use; the message is one line naming the file and the problem. */
public final class DataException extends RuntimeException {
  public DataException(String message) {
    super(message);
  }
}
