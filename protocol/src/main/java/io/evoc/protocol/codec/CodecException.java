package io.evoc.protocol.codec;

/** Coded data that cannot be decoded: truncated, damaged, or inconsistent with its model. */
public final class CodecException extends RuntimeException {
  public CodecException(String message) {
    super(message);
  }
}
