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

  @Test
  void outputsThatNameAnInputOrEachOtherAreRefusedBeforeAnyWork(@TempDir Path dir) throws IOException {
    Path model = Files.copy(Path.of(MLP), dir.resolve("m.onnx"));
    String out = dir.resolve("s.onnx").toString();
    assertOneLineError(sparsify(model.toString(), Cli.FASHION + ":train", "--out", dir.resolve("new/s.onnx").toString(),
        "--report", model.toString()), "--report " + model, "that is the --model");
    assertThat(dir.resolve("new")).as("nothing made for a refused command").doesNotExist();
    assertThat(Files.readAllBytes(model)).as("the input is untouched").isEqualTo(Files.readAllBytes(Path.of(MLP)));
    assertOneLineError(sparsify(MLP, Cli.FASHION + ":train", "--out", out, "--report", dir + "/./s.onnx"),
        "--report", "--out names the same file");
    assertOneLineError(Cli.run("decompress", model.toString(), "--out", model.toString()), "--out " + model,
        "that is the container");
    assertThat(dir.resolve("s.onnx")).doesNotExist();
  }

  @Test
  void anOutputThatCannotBeWrittenIsRefusedBeforeTheRunAndLeavesWhatWasThere(@TempDir Path dir) throws IOException {
    assertOneLineError(sparsify(MLP, Cli.FASHION + ":train", "--out", "/proc/evoc/s.onnx", "--report",
        dir.resolve("r.json").toString()), "--out /proc/evoc/s.onnx", "cannot write in /proc (it takes no new files)");
    Path kept = Files.writeString(dir.resolve("s.onnx"), "an earlier result");
    Path reportDir = Files.createDirectory(dir.resolve("reports"));
    assertOneLineError(sparsify(MLP, Cli.FASHION + ":train", "--out", kept.toString(), "--report",
        reportDir.toString()), "--report " + reportDir, "is a directory");
    assertThat(Files.readString(kept)).isEqualTo("an earlier result");
  }

  @Test
  void flagsTheParserCannotTakeAreOneLineToo() {
    assertOneLineError(Cli.run("sparsify", "--model", MLP, "--calib", Cli.FASHION, "--seed", "abc", "--out", "s.onnx",
        "--report", "r.json"), "'--seed': 'abc'", "see evoc sparsify --help");
    assertOneLineError(Cli.run("eval", "--model", MLP, "--data", Cli.FASHION, "--frobnicate"), "--frobnicate",
        "see evoc eval --help");
    assertOneLineError(Cli.run("sparsify", "--calib", Cli.FASHION, "--out", "s.onnx", "--report", "r.json"),
        "--model", "Missing required option");
  }

  @Test
  void nonFiniteInputsAndWeightsAreRefused(@TempDir Path dir) throws IOException {
    float[] values = new float[3 * 784];
    values[784 + 5] = Float.NaN;
    Path nan = writeNpy(dir.resolve("nan.npy"), values, 3, 784);
    assertOneLineError(sparsify(MLP, nan.toString(), "--out", dir.resolve("s.onnx").toString(), "--report",
        dir.resolve("r.json").toString()), nan.toString(), "sample 1 holds NaN (its value 5)");

    io.evoc.protocol.model.OnnxModel mlp = io.evoc.protocol.model.OnnxModel.read(Path.of(MLP));
    var graph = mlp.proto().getGraph().toBuilder();
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      var t = graph.getInitializer(i);
      if (t.getName().equals("fc2.weight")) {
        byte[] raw = t.getRawData().toByteArray();
        java.nio.ByteBuffer.wrap(raw).order(java.nio.ByteOrder.LITTLE_ENDIAN).putFloat(0, Float.POSITIVE_INFINITY);
        graph.setInitializer(i, t.toBuilder().setRawData(com.google.protobuf.ByteString.copyFrom(raw)));
      }
    }
    Path broken = dir.resolve("inf.onnx");
    Files.write(broken, mlp.proto().toBuilder().setGraph(graph).build().toByteArray());
    assertOneLineError(sparsify(broken.toString(), Cli.FASHION + ":train", "--out", dir.resolve("s.onnx").toString(),
        "--report", dir.resolve("r.json").toString()), broken.toString(), "check the model's weights");
  }

  @Test
  void labelsThatAreNotTheModelsClasses(@TempDir Path dir) throws IOException {
    byte[] images;
    try (var in = new GZIPInputStream(Files.newInputStream(Path.of(Cli.FASHION, "t10k-images-idx3-ubyte.gz")))) {
      images = in.readNBytes(16 + 784 * 4);
    }
    java.nio.ByteBuffer.wrap(images).putInt(4, 4); // four images
    Files.write(dir.resolve("t10k-images-idx3-ubyte"), images);
    byte[] labels = {0, 0, 8, 1, 0, 0, 0, 4, 3, 7, 42, 1};
    Files.write(dir.resolve("t10k-labels-idx1-ubyte"), labels);
    assertOneLineError(Cli.run("eval", "--model", MLP, "--data", dir.toString()), "t10k", "label 42 at index 2 is not "
        + "one of the model's 10 classes");
  }

  @Test
  void valuesThatMeanNothingAreRefused(@TempDir Path dir) {
    String out = dir.resolve("s.onnx").toString();
    String report = dir.resolve("r.json").toString();
    String calib = Cli.FASHION + ":train";
    assertOneLineError(Cli.run("sparsify", "--model", MLP, "--calib", calib, "--layer-sparsity",
        "fc1.weight=0.5,fc1.weight=0.7", "--out", out, "--report", report), "fc1.weight", "twice");
    assertOneLineError(sparsify(MLP, calib, "--time-budget", "0s", "--out", out, "--report", report), "'0s'",
        "more than nothing");
    assertOneLineError(Cli.run("sparsify", "--model", MLP, "--calib", calib, "--sparsity", "NaN", "--out", out,
        "--report", report), "--sparsity NaN", "fraction");
    assertOneLineError(sparsify(MLP, calib, "--calib-limit", "-5", "--out", out, "--report", report),
        "--calib-limit -5", "0 (all) or more");
    assertOneLineError(Cli.run("serve", "--port", "-1", "--data-dir", dir.toString()), "--port -1", "0 to 65535");
  }

  @Test
  void submitRefusesWhatTheServerWouldBeforeUploading(@TempDir Path dir) throws IOException {
    // No server listens there: each refusal comes before any connection.
    String[] submit = {"submit", "--server", "http://127.0.0.1:9", "--token", "t", "--model", MLP, "--calib", Cli.FASHION};
    assertOneLineError(Cli.run(concat(submit, "--set", "population=2000000000")), "--population 2000000000",
        "expected 2 to 10000");
    assertOneLineError(Cli.run(concat(submit, "--set", "out=x.evoc")), "'out'", "set by the server");
    Path text = Files.writeString(dir.resolve("m.onnx"), "not a model");
    assertOneLineError(Cli.run("submit", "--server", "http://127.0.0.1:9", "--model", text.toString(), "--calib",
        Cli.FASHION), text.toString(), "not an ONNX model");
    assertOneLineError(Cli.run(submit), "http://127.0.0.1:9", "connection refused");
    submit[2] = "ht!tp://::";
    assertOneLineError(Cli.run(submit), "--server 'ht!tp://::'", "expected http://HOST:PORT");
  }

  @Test
  void jobsWithoutAServerOrACommandSayWhatIsWrong() {
    assertOneLineError(Cli.run("jobs", "list", "--server", "http://127.0.0.1:9"), "http://127.0.0.1:9",
        "connection refused");
    assertOneLineError(Cli.run("jobs", "show", "j1", "--server", "nowhere"), "--server 'nowhere'", "expected http://");
    // The server's options go before the subcommand as well as after it.
    assertOneLineError(Cli.run("jobs", "--server", "nowhere", "show", "j1"), "--server 'nowhere'", "expected http://");
    assertOneLineError(Cli.run("jobs", "--server", "http://127.0.0.1:9", "--token", "t", "list"), "http://127.0.0.1:9",
        "connection refused");
    assertOneLineError(Cli.run("jobs"), "missing command", "list, show, follow, cancel or fetch");
    assertOneLineError(Cli.run("jobs", "fetch", "j1", "--what", "weights"), "--what", "weights");
    assertOneLineError(Cli.run("jobs", "show"), "ID", "evoc jobs show --help");
    // Outputs checked before the server is asked (none listens there).
    assertOneLineError(Cli.run("jobs", "fetch", "j1", "--out", "/tmp", "--server", "http://127.0.0.1:9"),
        "--out /tmp", "is a directory");
    assertOneLineError(Cli.run("submit", "--server", "http://127.0.0.1:9", "--model", MLP, "--calib", Cli.FASHION,
        "--follow", "--out", MLP), "--out " + MLP, "that is the uploaded model");
  }

  private static String[] concat(String[] a, String... b) {
    String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, all, a.length, b.length);
    return all;
  }

  /** A sparsify run with small settings; {@code more} adds flags. */
  private static Cli sparsify(String model, String calib, String... more) {
    java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("sparsify", "--model", model, "--calib",
        calib, "--sparsity", "0.5", "--method", "magnitude", "--repair", "none"));
    args.addAll(java.util.List.of(more));
    return Cli.run(args.toArray(String[]::new));
  }

  /** A float32 .npy file of {@code rows} samples of {@code width} values. */
  private static Path writeNpy(Path file, float[] values, int rows, int width) throws IOException {
    String header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows + ", " + width + "), }";
    int pad = 64 - (10 + header.length() + 1) % 64;
    header = header + " ".repeat(pad % 64) + "\n";
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(10 + header.length() + 4 * values.length)
        .order(java.nio.ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 0x93).put("NUMPY".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0)
        .putShort((short) header.length()).put(header.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    for (float v : values) {
      b.putFloat(v);
    }
    return Files.write(file, b.array());
  }

  private static void assertOneLineError(Cli r, String names, String says) {
    assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err()).startsWith("evoc: ").contains(names).contains(says).doesNotContain("\n").doesNotContain("Exception");
  }
}
