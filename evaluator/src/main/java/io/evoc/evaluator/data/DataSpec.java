package io.evoc.evaluator.data;

import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Where a command's data comes from: a path, and the split to take from it. Written as {@code
 * PATH[:train|:test]}; only a trailing {@code :train} or {@code :test} is a split, so a path may
 * hold other colons, and a path that exists as written (say a directory named {@code mnist:test})
 * is taken as it is when stripping the suffix would name nothing.
 *
 * @param splitGiven whether the spec named the split; without it the split is {@link Split#TEST}
 */
public record DataSpec(Path path, Split split, boolean splitGiven) {
  /** Which half of a data set that ships both. */
  public enum Split {
    TRAIN,
    TEST;

    String lowerCase() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  public static DataSpec parse(String spec) {
    try {
      return parsePath(spec);
    } catch (InvalidPathException e) {
      throw new DataException(spec + ": not a valid path (" + e.getReason() + ")");
    }
  }

  private static DataSpec parsePath(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new DataException("no data given (expected an IDX directory[:train|:test], "
          + "a .npy file or a .npz file[:train|:test])");
    }
    for (Split split : Split.values()) {
      String suffix = ":" + split.lowerCase();
      if (spec.endsWith(suffix) && spec.length() > suffix.length()) {
        Path stripped = Path.of(spec.substring(0, spec.length() - suffix.length()));
        boolean literal = !Files.exists(stripped) && Files.exists(Path.of(spec));
        if (!literal) {
          return new DataSpec(stripped, split, true);
        }
      }
    }
    return new DataSpec(Path.of(spec), Split.TEST, false);
  }

  @Override
  public String toString() {
    return splitGiven ? path + ":" + split.lowerCase() : path.toString();
  }
}
