package io.evoc.evaluator.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Seeded damage to real .npy/.npz/IDX files: every failure must be a one-line DataException. */
class CorruptFilesTest {
  @TempDir Path tmp;

  @Test
  void damagedFilesFailWithOneLineDataExceptionsOnly() throws IOException {
    Path[] sources = {
      Fixtures.examples().resolve("fashion-test-50-xy.npz"),
      Fixtures.examples().resolve("fashion-test-100.npz"),
      Fixtures.formats("v1-f4.npy"),
      Fixtures.formats("v3-f4.npy"),
      Fixtures.formats("f8-i4.npz"),
    };
    Path idx = Fixtures.writeIdx(tmp.resolve("src"), 0x803, new int[] {4, 3, 3},
        Fixtures.counting(36), true);
    Random random = new Random(42);
    int failures = 0;
    for (int i = 0; i < 600; i++) {
      Path source = i % 6 == 5 ? idx : sources[i % 5];
      String name = source.getFileName().toString();
      String extension = name.contains(".") ? name.substring(name.lastIndexOf('.')) : "";
      Path file = Files.write(tmp.resolve(i + (source == idx ? "-images-idx3-ubyte.gz" : extension)),
          damage(Files.readAllBytes(source), random));
      try {
        DataLoader.load(file.toString(), random.nextBoolean() ? 0 : 3);
      } catch (DataException e) {
        failures++;
        assertThat(e.getMessage()).startsWith(file.toString()).doesNotContain("\n");
      } catch (RuntimeException e) {
        fail(file + " (damaged " + name + ") threw " + e, e);
      }
      Files.delete(file);
    }
    assertThat(failures).isGreaterThan(200);
  }

  private static byte[] damage(byte[] bytes, Random random) {
    int mode = random.nextInt(3);
    if (mode == 0) {
      return Arrays.copyOf(bytes, random.nextInt(bytes.length));
    }
    byte[] damaged = bytes.clone();
    for (int k = 1 + random.nextInt(4); k > 0; k--) {
      int at = random.nextInt(mode == 1 ? Math.min(bytes.length, 200) : bytes.length);
      damaged[at] = (byte) random.nextInt(256);
    }
    return damaged;
  }
}
