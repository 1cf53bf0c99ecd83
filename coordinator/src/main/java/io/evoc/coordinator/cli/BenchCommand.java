package io.evoc.coordinator.cli;

import picocli.CommandLine.Command;

/** Benchmarks: speed and memory are measured here, never asserted in tests. */
@Command(name = "bench", description = "Measures speed and memory.", subcommands = {BenchForwardCommand.class, BenchScoringCommand.class},
    mixinStandardHelpOptions = true)
final class BenchCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing benchmark: forward or scoring");
  }
}
