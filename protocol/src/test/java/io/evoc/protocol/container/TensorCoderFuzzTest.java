package io.evoc.protocol.container;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Damaged tensors that got past the file checksum (or were built by hand): flipped, cut and
 * spliced message bytes. Decoding either rebuilds values whose CRC-32C matches or fails with a
 * one-line {@link ContainerException}: no other exception, no hang, no unbounded allocation.
 */
class TensorCoderFuzzTest {
  @Test
  void damagedTensorsFailOnlyWithOneLineErrors() {
    fuzz(TensorCoder.encode(ContainerTest.prunedLayer(4)).toByteArray());
  }

  @Test
  void damagedRawValuesFailOnlyWithOneLineErrors() {
    fuzz(TensorCoder.encode(TensorCoderTest.exactLayer(4, 1 << 20)).toByteArray());
  }

  private static void fuzz(byte[] original) {
    SplittableRandom random = new SplittableRandom(2026);
    int refused = 0;
    int unparsable = 0;
    for (int trial = 0; trial < 3000; trial++) {
      byte[] bytes = original.clone();
      int edits = 1 + random.nextInt(4);
      for (int e = 0; e < edits; e++) {
        int at = random.nextInt(bytes.length);
        switch (random.nextInt(3)) {
          case 0 -> bytes[at] ^= (byte) (1 << random.nextInt(8));
          case 1 -> bytes[at] = (byte) random.nextInt(256);
          default -> bytes = java.util.Arrays.copyOf(bytes, at);
        }
        if (bytes.length == 0) {
          break;
        }
      }
      CodedTensor t;
      try {
        t = CodedTensor.parseFrom(bytes);
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        unparsable++;
        continue;
      }
      try {
        float[] values = TensorCoder.decode(t);
        assertThat(TensorCoder.crc32c(values)).isEqualTo(t.getCrc32C());
      } catch (ContainerException e) {
        assertThat(e.getMessage()).as("trial %d", trial).startsWith("tensor '").doesNotContain("\n");
        refused++;
      }
    }
    assertThat(refused).as("most damage reaches the decoder and is refused there").isGreaterThan(1000);
    assertThat(unparsable).isPositive();
  }
}
