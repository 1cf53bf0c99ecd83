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
}
