package io.evoc.coordinator.cli;

/** The command line for tests in other packages. */
public final class CliAccess {
  private CliAccess() {}

  /** What a run printed, and its exit code. */
  public record Result(int exitCode, String out, String err) {}

  /** The exit code; what the run printed is dropped, but for its errors (on the test's stderr). */
  public static int run(String... args) {
    Cli r = Cli.run(args);
    if (r.exitCode() != 0) {
      System.err.println(r.err());
    }
    return r.exitCode();
  }

  public static Result output(String... args) {
    Cli r = Cli.run(args);
    return new Result(r.exitCode(), r.out(), r.err());
  }
}
