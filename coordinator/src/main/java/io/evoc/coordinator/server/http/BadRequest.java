package io.evoc.coordinator.server.http;

/** A request the API refuses: the status to answer and a one-line message naming what is wrong. */
final class BadRequest extends RuntimeException {
  final int status;

  BadRequest(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }
}
