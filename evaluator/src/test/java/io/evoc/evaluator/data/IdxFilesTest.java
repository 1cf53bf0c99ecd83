package io.evoc.evaluator.data;

import static io.evoc.evaluator.data.Fixtures.counting;
import static io.evoc.evaluator.data.Fixtures.writeIdx;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxFilesTest {
  @TempDir Path tmp;

  @Test
  void readsFashionMnistTestSet() {
    Path dir = Fixtures.fashion();
    DataSet test = IdxFiles.read(dir.resolve("t10k-images-idx3-ubyte.gz"),
        dir.resolve("t10k-labels-idx1-ubyte.gz"));

    assertThat(test.size()).isEqualTo(10_000);
    assertThat(test.sampleShape()).containsExactly(28, 28);
    assertThat(test.storedType()).isEqualTo(StoredType.UINT8);
    assertThat(test.labels()).startsWith(9, 2, 1, 1, 6, 1, 4, 6, 5, 7);
    assertThat(histogram(test.labels())).containsOnly(1000);
    assertThat(sum(test, 0)).isEqualTo(33456);
  }

  @Test
  void readsFashionMnistTrainSet() {
    Path dir = Fixtures.fashion();
    DataSet train = IdxFiles.read(dir.resolve("train-images-idx3-ubyte.gz"),
        dir.resolve("train-labels-idx1-ubyte.gz"));

    assertThat(train.size()).isEqualTo(60_000);
    assertThat(train.labels()).startsWith(9, 0, 0, 3, 0, 2, 7, 2, 5, 5);
    assertThat(histogram(train.labels())).containsOnly(6000);
    assertThat(sum(train, 0)).isEqualTo(76247);
  }

  @Test
  void rawAndGzippedFilesGiveTheSameData() throws IOException {
    Path dir = Fixtures.fashion();
    Path images = gunzip(dir.resolve("t10k-images-idx3-ubyte.gz"), tmp.resolve("images"));
    Path labels = gunzip(dir.resolve("t10k-labels-idx1-ubyte.gz"), tmp.resolve("labels"));

    DataSet raw = IdxFiles.read(images, labels);
    DataSet gz = IdxFiles.read(dir.resolve("t10k-images-idx3-ubyte.gz"),
        dir.resolve("t10k-labels-idx1-ubyte.gz"));

    assertThat(raw.values()).isEqualTo(gz.values());
    assertThat(raw.labels()).isEqualTo(gz.labels());
    assertThat(raw.sampleShape()).isEqualTo(gz.sampleShape());
  }

  @Test
  void limitConvertsOnlyTheFirstSamples() throws IOException {
    Path images = writeIdx(tmp.resolve("i"), 0x803, new int[] {5, 2, 2}, counting(20), true);
    Path labels = writeIdx(tmp.resolve("l"), 0x801, new int[] {5}, counting(5), false);

    DataSet data = IdxFiles.read(images, labels, 2);

    assertThat(data.values()).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
    assertThat(data.labels()).containsExactly(0, 1);
  }

  @Test
  void labelsAreOptional() throws IOException {
    Path images = writeIdx(tmp.resolve("i"), 0x803, new int[] {3, 2, 2}, counting(12), false);

    DataSet data = IdxFiles.read(images, null, 0);

    assertThat(data.size()).isEqualTo(3);
    assertThat(data.hasLabels()).isFalse();
  }

  @Test
  void rejectsABadMagicNumber() throws IOException {
    Path images = writeIdx(tmp.resolve("i"), 0x12345678, new int[] {1}, counting(1), false);

    assertThatThrownBy(() -> IdxFiles.read(images, null, 0))
        .isInstanceOf(DataException.class)
        .hasMessage(images + ": bad IDX magic number 0x12345678 (expected 0x0000080N, "
            + "unsigned bytes of rank N)");
  }

  @Test
  void rejectsElementTypesOtherThanUnsignedBytes() throws IOException {
    Path images = writeIdx(tmp.resolve("floats"), 0xD02, new int[] {1, 1}, new byte[4], false);

    assertThatThrownBy(() -> IdxFiles.read(images, null, 0))
        .hasMessageStartingWith(images + ": IDX element type 0xd is not supported");
  }

  @Test
  void rejectsTruncatedFilesRawAndGzipped() throws IOException {
    Path raw = writeIdx(tmp.resolve("raw"), 0x803, new int[] {10, 28, 28}, counting(100), false);
    Path gz = writeIdx(tmp.resolve("gz"), 0x803, new int[] {10, 28, 28}, counting(100), true);
    byte[] whole = Files.readAllBytes(Fixtures.fashion().resolve("t10k-labels-idx1-ubyte.gz"));
    Path cut = Files.write(tmp.resolve("cut.gz"), Arrays.copyOf(whole, whole.length / 2));

    for (Path file : new Path[] {raw, gz}) {
      assertThatThrownBy(() -> IdxFiles.read(file, null, 0))
          .isInstanceOf(DataException.class)
          .hasMessage(file + ": truncated (the header promises 7840 bytes of data, the file holds 100)");
    }
    // A gzip stream cut mid-way ends in an EOF before the data is short.
    assertThatThrownBy(() -> IdxFiles.read(cut, null, 0))
        .isInstanceOf(DataException.class)
        .hasMessage(cut + ": truncated (the header promises more data than the file holds)");
  }

  @Test
  void rejectsAnEmptyFile() throws IOException {
    Path empty = Files.createFile(tmp.resolve("empty"));

    assertThatThrownBy(() -> IdxFiles.read(empty, null, 0))
        .hasMessage(empty + ": truncated (the header promises more data than the file holds)");
  }

  @Test
  void rejectsALabelCountThatDiffersFromTheImageCount() throws IOException {
    Path images = writeIdx(tmp.resolve("i"), 0x803, new int[] {3, 2, 2}, counting(12), false);
    Path labels = writeIdx(tmp.resolve("l"), 0x801, new int[] {4}, counting(4), false);

    assertThatThrownBy(() -> IdxFiles.read(images, labels))
        .hasMessage(labels + ": 4 labels for 3 images in " + images);
  }

  @Test
  void rejectsLabelsWithMoreThanOneDimension() throws IOException {
    Path images = writeIdx(tmp.resolve("i"), 0x803, new int[] {3, 2, 2}, counting(12), false);
    Path labels = writeIdx(tmp.resolve("l"), 0x802, new int[] {3, 2}, counting(6), false);

    assertThatThrownBy(() -> IdxFiles.read(images, labels))
        .hasMessage(labels + ": expected a 1-D label file, got 2 dimensions");
  }

  @Test
  void rejectsAMissingFile() {
    Path missing = tmp.resolve("nope-images-idx3-ubyte");

    assertThatThrownBy(() -> IdxFiles.read(missing, null, 0))
        .isInstanceOf(DataException.class)
        .hasMessage(missing + ": no such file");
  }

  @Test
  void rejectsDimensionsTooLargeToLoad() throws IOException {
    Path huge = writeIdx(tmp.resolve("huge"), 0x803, new int[] {-1, -1, -1}, new byte[0], false);

    assertThatThrownBy(() -> IdxFiles.read(huge, null, 0))
        .hasMessageStartingWith(huge + ": [4294967295,4294967295,4294967295] is more data");
  }

  static Path gunzip(Path from, Path to) throws IOException {
    try (InputStream in = new GZIPInputStream(Files.newInputStream(from))) {
      Files.copy(in, to);
    }
    return to;
  }

  private static int[] histogram(int[] labels) {
    int[] counts = new int[10];
    for (int y : labels) {
      counts[y]++;
    }
    return counts;
  }

  private static long sum(DataSet data, int sample) {
    int per = (int) data.elementsPerSample();
    long s = 0;
    for (int i = 0; i < per; i++) {
      s += (long) data.values()[sample * per + i];
    }
    return s;
  }
}
