package io.evoc.coordinator.cli;

import io.evoc.evaluator.data.Preprocessing;
import picocli.CommandLine.Option;

/** The preprocessing flags, the same on every command that reads data. */
final class PreprocessingOptions {
  @Option(names = "--normalize", paramLabel = "auto|unit|none",
      description = "unit: divide by 255; none: use values as stored; auto (default): unit for uint8 data, none for float data.")
  String normalize;

  @Option(names = "--mean", paramLabel = "M[,M...]", description = "Subtracted after --normalize, per channel (one value: all).")
  String mean;

  @Option(names = "--std", paramLabel = "S[,S...]", description = "Divides after --mean, per channel (one value: all).")
  String std;

  Preprocessing parse() {
    return Preprocessing.parse(normalize, mean, std);
  }
}
