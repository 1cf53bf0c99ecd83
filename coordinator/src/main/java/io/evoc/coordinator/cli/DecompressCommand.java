package io.evoc.coordinator.cli;

import io.evoc.protocol.container.ContainerFile;
import io.evoc.protocol.container.ModelPacking;
import io.evoc.protocol.model.OnnxModel;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "decompress", mixinStandardHelpOptions = true,
    description = "Rebuilds a standard ONNX model from a .evoc container (pruned weights zero, quantized weights"
        + " dequantized); every byte is checked before anything is written.")
final class DecompressCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "M.evoc")
  Path container;

  @Option(names = "--out", required = true, paramLabel = "M.onnx")
  Path out;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws IOException {
    OutputFiles.check(OutputFiles.named("--out", out), OutputFiles.named("container", container));
    OnnxModel model = ModelPacking.rebuild(ContainerFile.read(container), container.toString());
    model.write(out);
    spec.commandLine().getErr().printf("decompress: %s -> %s%n", container, out);
    return 0;
  }
}
