package io.evoc.protocol.container;

/** A container that cannot be read or decoded; the message is one line naming the file or tensor. */
public final class ContainerException extends RuntimeException {
  public ContainerException(String message) {
    super(message);
  }
}
