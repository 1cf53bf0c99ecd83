package io.evoc.coordinator.cli;

/** The command line for tests in other packages: its exit code, its output dropped. */
public final class CliAccess {
  private CliAccess() {}

  public static int run(String... args) {
    Cli r = Cli.run(args);
    if (r.exitCode() != 0) {
      System.err.println(r.err());
    }
    return r.exitCode();
  }
}
