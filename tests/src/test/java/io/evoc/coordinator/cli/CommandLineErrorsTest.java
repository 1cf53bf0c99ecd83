package io.evoc.coordinator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad input gives exit code 2 and one line on stderr that names the culprit; never a stack trace. */
class CommandLineErrorsTest {
  private static final String MLP = Cli.path("examples/models/fashion-mlp.onnx");

  @Test
  void missingModelFile() {
    assertOneLineError(Cli.run("eval", "--model", "/no/such/model.onnx", "--data", Cli.FASHION), "/no/such/model.onnx", "no such file");
  }

  @Test
  void modelThatIsNotOnnx(@TempDir Path dir) throws IOException {
    Path bad = Files.writeString(dir.resolve("bad.onnx"), "hello, I am text");
    assertOneLineError(Cli.run("inspect-model", bad.toString()), bad.toString(), "not an ONNX model");
  }

  @Test
  void refusedOldOpset() {
    String file = Cli.path("examples/fixtures/refused-old-opset.onnx");
    assertOneLineError(Cli.run("inspect-model", file), file, "opset 6");
  }

  @Test
  void dataShapeThatDoesNotFitTheModel(@TempDir Path dir) throws IOException {
    // 20 samples of 28x28x1 fed to a model whose input takes 16 values per sample.
    String data = Cli.path("examples/data/fashion-test-20-f32.npy");
    assertOneLineError(Cli.run("eval", "--model", Cli.path("examples/fixtures/unsupported-op.onnx"), "--data", data), data, "fit");
  }

  @Test
  void truncatedIdxImages(@TempDir Path dir) throws IOException {
    byte[] images;
    try (var in = new GZIPInputStream(Files.newInputStream(Path.of(Cli.FASHION, "t10k-images-idx3-ubyte.gz")))) {
      images = in.readNBytes(16 + 784 * 5);
    }
    Files.write(dir.resolve("t10k-images-idx3-ubyte"), images);
    try (OutputStream out = Files.newOutputStream(dir.resolve("t10k-labels-idx1-ubyte"));
        var in = new GZIPInputStream(Files.newInputStream(Path.of(Cli.FASHION, "t10k-labels-idx1-ubyte.gz")))) {
      in.transferTo(out);
    }
    assertOneLineError(Cli.run("eval", "--model", MLP, "--data", dir.toString()), "t10k-images-idx3-ubyte", "truncated");
  }

  @Test
  void unknownEngineAndBadDevice() {
    assertOneLineError(Cli.run("eval", "--model", MLP, "--data", Cli.FASHION, "--engine", "tvm"), "tvm", "djl or ort");
    assertOneLineError(Cli.run("eval", "--model", MLP, "--data", Cli.FASHION, "--device", "tpu:0"), "tpu:0", "cpu");
  }

  @Test
  void weightThatDoesNotFitItsInputNamesTheNode(@TempDir Path dir) throws IOException {
    // fc1.weight declared transposed: the file parses, the Gemm cannot run.
    io.evoc.protocol.model.OnnxModel cnn = io.evoc.protocol.model.OnnxModel.read(Path.of(Cli.path("examples/fixtures/torch-cnn.onnx")));
    var graph = cnn.proto().getGraph().toBuilder();
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      if (graph.getInitializer(i).getName().equals("fc1.weight")) {
        graph.setInitializer(i, graph.getInitializer(i).toBuilder().setDims(0, 200).setDims(1, 32));
      }
    }
    Path broken = dir.resolve("broken.onnx");
    Files.write(broken, cnn.proto().toBuilder().setGraph(graph).build().toByteArray());
    assertOneLineError(Cli.run("eval", "--model", broken.toString(), "--data", Cli.FASHION, "--limit", "10"),
        broken.toString(), "Gemm '/fc1/Gemm'");
    assertOneLineError(Cli.run("eval", "--model", broken.toString(), "--data", Cli.FASHION, "--limit", "10", "--engine", "ort"),
        broken.toString(), "ONNX Runtime run failed");
  }

  @Test
  void unknownServerRole(@TempDir Path dir) {
    assertOneLineError(Cli.run("serve", "--roles", "coordinator,evaluater", "--data-dir", dir.toString()), "evaluater",
        "expected coordinator, evaluator, finalizer");
  }

  @Test
  void badPreprocessingFlag() {
    assertOneLineError(Cli.run("eval", "--model", MLP, "--data", Cli.FASHION, "--mean", "0.5,abc"), "--mean", "abc");
  }

  private static void assertOneLineError(Cli r, String names, String says) {
    assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("evoc: ").contains(names).contains(says).doesNotContain("\n").doesNotContain("Exception");
  }
}
