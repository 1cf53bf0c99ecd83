package io.evoc.coordinator.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** One JSON object per result, on one line, so that scripts can read stdout line by line. */
final class Json {
  private static final ObjectMapper MAPPER = new ObjectMapper()
      .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

  private Json() {}

  /** A figure for a report: two decimals are all a benchmark's noise leaves meaningful. */
  static double hundredths(double v) {
    return Math.round(v * 100) / 100.0;
  }

  /** Indented, for files people read (reports). */
  static String pretty(Object value) {
    try {
      return MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON", e);
    }
  }

  /** A report, indented, written through a temporary file so that a reader never sees half of it. */
  static void writeAtomically(Path file, Object value) throws IOException {
    io.evoc.protocol.files.WholeFiles.write(file, (pretty(value) + "\n").getBytes(StandardCharsets.UTF_8));
  }

  static String line(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON", e);
    }
  }
}
