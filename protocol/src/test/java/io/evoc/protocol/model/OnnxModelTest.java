package io.evoc.protocol.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class OnnxModelTest {
  private static final Path EXAMPLES = Path.of(System.getProperty("evoc.repo.root", ".."), "examples");

  static List<Path> models() throws IOException {
    try (Stream<Path> files = Files.walk(EXAMPLES)) {
      return files.filter(p -> p.toString().endsWith(".onnx"))
          .filter(p -> !p.getFileName().toString().startsWith("refused-")).sorted().toList();
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("models")
  void roundTripWithoutChangesRunsIdenticallyInOnnxRuntime(Path file, @TempDir Path dir) throws Exception {
    OnnxModel original = OnnxModel.read(file);
    Path copy = dir.resolve("copy.onnx");
    original.withWeights(Map.of()).write(copy);
    assertThat(Files.readAllBytes(copy)).isEqualTo(Files.readAllBytes(file));
    assertThat(run(copy, original)).isEqualTo(run(file, original));
  }

  @Test
  void replacedWeightsChangeTheOutputAndNothingElse(@TempDir Path dir) throws Exception {
    Path file = EXAMPLES.resolve("fixtures/torch-cnn.onnx");
    OnnxModel model = OnnxModel.read(file);
    String weight = model.initializers().values().stream()
        .filter(t -> t.getDataType() == 1 && t.getDimsCount() == 4).findFirst().orElseThrow().getName();
    float[] halved = model.floats(weight);
    for (int i = 0; i < halved.length; i++) {
      halved[i] *= 0.5f;
    }
    OnnxModel edited = model.withWeights(Map.of(weight, halved));
    Path out = dir.resolve("edited.onnx");
    edited.write(out);
    assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(out)))
        .isEqualTo("rw-r--r--");
    OnnxModel reread = OnnxModel.read(out);
    assertThat(reread.floats(weight)).containsExactly(halved);
    assertThat(reread.graph().getNodeList()).isEqualTo(model.graph().getNodeList());
    assertThat(reread.inputs()).isEqualTo(model.inputs());
    assertThat(run(out, model)).isNotEqualTo(run(file, model));
  }

  @Test
  void unknownWeightNameIsRejected() {
    OnnxModel model = OnnxModel.read(EXAMPLES.resolve("fixtures/torch-cnn.onnx"));
    assertThatThrownBy(() -> model.withWeights(Map.of("no.such.weight", new float[1])))
        .hasMessageContaining("no.such.weight");
  }

  @Test
  void opsetOlderThanSevenIsRefusedWithOneLine() {
    Path file = EXAMPLES.resolve("fixtures/refused-old-opset.onnx");
    assertThatThrownBy(() -> OnnxModel.read(file))
        .isInstanceOf(InvalidModelException.class)
        .hasMessageStartingWith(file.toString())
        .hasMessageContaining("opset 6")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void externalDataIsRefusedWithOneLine() {
    Path file = EXAMPLES.resolve("fixtures/refused-external-data.onnx");
    assertThatThrownBy(() -> OnnxModel.read(file))
        .isInstanceOf(InvalidModelException.class)
        .hasMessageStartingWith(file.toString())
        .hasMessageContaining("external")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void garbageEmptyAndMissingFilesAreRefused(@TempDir Path dir) throws IOException {
    Path garbage = Files.write(dir.resolve("garbage.onnx"), "this is not protobuf at all\u0000\u00ff".getBytes());
    Path empty = Files.write(dir.resolve("empty.onnx"), new byte[0]);
    Path missing = dir.resolve("missing.onnx");
    assertThatThrownBy(() -> OnnxModel.read(garbage)).isInstanceOf(InvalidModelException.class)
        .hasMessageStartingWith(garbage.toString()).hasMessageContaining("not an ONNX model");
    assertThatThrownBy(() -> OnnxModel.read(empty)).isInstanceOf(InvalidModelException.class)
        .hasMessageContaining("empty");
    assertThatThrownBy(() -> OnnxModel.read(missing)).isInstanceOf(InvalidModelException.class)
        .hasMessageContaining("no such file");
  }

  @Test
  void inputsExcludeInitializersListedAsInputs() {
    // Exporters before torch 1.6 list every weight as a graph input too.
    OnnxModel model = OnnxModel.read(EXAMPLES.resolve("fixtures/torch-view-reshape.onnx"));
    assertThat(model.inputs()).extracting(TensorSpec::name).containsExactly("input");
    assertThat(model.opset()).isEqualTo(9);
    assertThat(model.irVersion()).isEqualTo(4);
  }

  /** Every output of one seeded run, as raw float bits. */
  private static Map<String, List<Integer>> run(Path file, OnnxModel model) throws OrtException {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    Random random = new Random(7);
    Map<String, OnnxTensor> feeds = new HashMap<>();
    try (OrtSession session = env.createSession(file.toString(), new OrtSession.SessionOptions())) {
      for (TensorSpec in : model.inputs()) {
        long[] dims = in.dims();
        int n = 1;
        for (int i = 0; i < dims.length; i++) {
          dims[i] = dims[i] < 0 ? 2 : dims[i];
          n *= (int) dims[i];
        }
        float[] data = new float[n];
        for (int i = 0; i < n; i++) {
          data[i] = (float) random.nextGaussian();
        }
        feeds.put(in.name(), OnnxTensor.createTensor(env, FloatBuffer.wrap(data), dims));
      }
      Map<String, List<Integer>> out = new HashMap<>();
      try (OrtSession.Result result = session.run(feeds)) {
        for (var e : result) {
          FloatBuffer b = ((OnnxTensor) e.getValue()).getFloatBuffer();
          List<Integer> bits = new java.util.ArrayList<>();
          while (b.hasRemaining()) {
            bits.add(Float.floatToRawIntBits(b.get()));
          }
          out.put(e.getKey(), bits);
        }
      }
      return out;
    } finally {
      feeds.values().forEach(OnnxTensor::close);
    }
  }
}
