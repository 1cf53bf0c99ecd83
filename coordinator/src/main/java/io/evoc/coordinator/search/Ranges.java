package io.evoc.coordinator.search;

/** Checks a count flag against its range, naming the flag and the value when it is out. */
public final class Ranges {
  private Ranges() {}

  /** @throws IllegalArgumentException "--flag value: expected min to max" */
  public static void check(String flag, long value, long min, long max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(flag + " " + value + ": expected " + min + " to " + max);
    }
  }

  /** A sample limit, where 0 means all: @throws IllegalArgumentException "--flag value: expected 0 (all) or more" */
  public static void limit(String flag, long value) {
    if (value < 0) {
      throw new IllegalArgumentException(flag + " " + value + ": expected 0 (all) or more");
    }
  }
}
