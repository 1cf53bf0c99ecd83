package io.evoc.evaluator.data;

import java.io.EOFException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/**
 * Data evoc cannot use, or a data flag it cannot apply. The message is one line that names the
 * file (or the flag) and the problem, fit to show a user as it is.
 */
public final class DataException extends RuntimeException {
  public DataException(String message) {
    super(message);
  }

  /** An I/O failure while reading {@code file}, said the way a user needs to hear it. */
  static DataException reading(Object file, IOException e) {
    if (e instanceof NoSuchFileException) {
      return new DataException(file + ": no such file");
    }
    if (e instanceof AccessDeniedException) {
      return new DataException(file + ": permission denied");
    }
    if (e instanceof EOFException) {
      return new DataException(file
          + ": truncated (the header promises more data than the file holds)");
    }
    String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    return new DataException(file + ": cannot read (" + why.replace('\n', ' ') + ")");
  }
}
