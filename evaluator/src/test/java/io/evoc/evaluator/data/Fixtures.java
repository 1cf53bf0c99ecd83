package io.evoc.evaluator.data;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.evoc.protocol.model.TensorSpec;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

/** Where the test data lives, and small writers for files the tests break on purpose. */
final class Fixtures {
  static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");

  private Fixtures() {}

  /** The installed Fashion-MNIST; real data is part of the suite, so a missing install fails. */
  static Path fashion() {
    assertTrue(Files.isRegularFile(FASHION.resolve("t10k-images-idx3-ubyte.gz")),
        "Fashion-MNIST is not installed at " + FASHION + "; run bash ops/install-debian.sh");
    return FASHION;
  }

  /** {@code examples/data} of the repository, found upward from the module directory. */
  static Path examples() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path data = dir.resolve("examples/data");
      if (Files.isDirectory(data)) {
        return data;
      }
    }
    throw new IllegalStateException("no examples/data above " + Path.of("").toAbsolutePath());
  }

  static Path formats(String name) {
    return examples().resolve("npy-formats").resolve(name);
  }

  /** An IDX file: magic word, big-endian dims, then the bytes. */
  static Path writeIdx(Path file, int magic, int[] dims, byte[] data, boolean gzip)
      throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeInt(magic);
    for (int d : dims) {
      out.writeInt(d);
    }
    out.write(data);
    byte[] raw = bytes.toByteArray();
    try (OutputStream f = gzip ? new GZIPOutputStream(Files.newOutputStream(file))
        : Files.newOutputStream(file)) {
      f.write(raw);
    }
    return file;
  }

  static byte[] counting(int n) {
    byte[] data = new byte[n];
    for (int i = 0; i < n; i++) {
      data[i] = (byte) i;
    }
    return data;
  }

  /** A float model input with batch dimension {@code N} unless the first dim is fixed. */
  static TensorSpec input(String name, long... dims) {
    String[] names = new String[dims.length];
    Arrays.fill(names, "");
    if (dims.length > 0 && dims[0] < 0) {
      names[0] = "N";
    }
    return new TensorSpec(name, 1, dims, Arrays.asList(names));
  }

  static DataSet data(long[] sampleShape, int samples, StoredType type) {
    int per = (int) DataSet.elements(sampleShape);
    float[] values = new float[samples * per];
    for (int i = 0; i < values.length; i++) {
      values[i] = i;
    }
    int[] labels = new int[samples];
    for (int i = 0; i < samples; i++) {
      labels[i] = i % 10;
    }
    return new DataSet("mem", values, sampleShape, labels, type);
  }
}
