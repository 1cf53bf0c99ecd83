package io.evoc.protocol.model;

import static org.assertj.core.api.Assertions.assertThat;

import io.evoc.protocol.onnx.TensorProto;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Damaged model files: flipped bytes, cuts, spliced garbage. Reading one, and decoding every weight
 * of what still parses, either works or fails with a one-line {@link InvalidModelException}.
 */
class OnnxModelFuzzTest {
  private static final Path CNN = Path.of(System.getProperty("evoc.repo.root", ".."), "examples/fixtures/torch-cnn.onnx");

  @Test
  void damagedModelsFailOnlyWithOneLineErrors() throws Exception {
    byte[] original = Files.readAllBytes(CNN);
    SplittableRandom random = new SplittableRandom(2026);
    int parsed = 0;
    int refused = 0;
    for (int trial = 0; trial < 2000; trial++) {
      byte[] bytes = damage(original, random);
      try {
        OnnxModel model = OnnxModel.parse(bytes, "fuzz-" + trial);
        for (TensorProto t : model.initializers().values()) {
          if (t.getDataType() == TensorProto.DataType.FLOAT_VALUE) {
            TensorData.floats(t);
          }
        }
        model.inputs();
        model.outputs();
        parsed++;
      } catch (InvalidModelException e) {
        assertThat(e.getMessage()).as("trial %d", trial).startsWith("fuzz-").doesNotContain("\n");
        refused++;
      }
    }
    // Both outcomes must actually occur, or the damage is not exercising anything.
    assertThat(parsed).isPositive();
    assertThat(refused).isPositive();
  }

  private static byte[] damage(byte[] original, SplittableRandom random) {
    byte[] b = original.clone();
    switch (random.nextInt(3)) {
      case 0 -> {
        for (int i = 0, n = 1 + random.nextInt(8); i < n; i++) {
          b[random.nextInt(b.length)] = (byte) random.nextInt(256);
        }
      }
      case 1 -> b = Arrays.copyOf(b, random.nextInt(b.length));
      default -> {
        int at = random.nextInt(b.length);
        byte[] junk = new byte[1 + random.nextInt(32)];
        for (int i = 0; i < junk.length; i++) {
          junk[i] = (byte) random.nextInt(256);
        }
        byte[] out = new byte[b.length + junk.length];
        System.arraycopy(b, 0, out, 0, at);
        System.arraycopy(junk, 0, out, at, junk.length);
        System.arraycopy(b, at, out, at + junk.length, b.length - at);
        b = out;
      }
    }
    return b;
  }
}
