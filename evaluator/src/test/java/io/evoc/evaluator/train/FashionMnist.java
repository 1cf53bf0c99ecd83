package io.evoc.evaluator.train;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.evoc.evaluator.data.DataSet;
import io.evoc.evaluator.data.IdxFiles;
import java.nio.file.Files;
import java.nio.file.Path;

/** The Fashion-MNIST files where the build machines keep them (ops/install-debian.sh installs them). */
final class FashionMnist {
  static final Path DIR = Path.of("/usr/share/datasets/fashion-mnist");

  private FashionMnist() {}

  static DataSet train(int n) {
    return read("train", n);
  }

  static DataSet test(int n) {
    return read("t10k", n);
  }

  private static DataSet read(String split, int n) {
    Path images = DIR.resolve(split + "-images-idx3-ubyte.gz");
    // Real data is part of the suite: a missing install must fail, not pass as skipped.
    assertTrue(Files.exists(images), "no Fashion-MNIST at " + DIR + "; run bash ops/install-debian.sh");
    return IdxFiles.read(images, DIR.resolve(split + "-labels-idx1-ubyte.gz")).limit(n);
  }
}
