package io.evoc.coordinator.cli;

import picocli.CommandLine.Command;

/** Benchmarks: speed, memory and coding size are measured here, never asserted in tests. */
@Command(name = "bench", description = "Measures speed, memory and coding size.",
    subcommands = {BenchForwardCommand.class, BenchScoringCommand.class, BenchCodingCommand.class,
        BenchClusterCommand.class, BenchJournalCommand.class},
    mixinStandardHelpOptions = true)
final class BenchCommand implements Runnable {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing benchmark: forward, scoring, coding, cluster or journal");
  }
}
