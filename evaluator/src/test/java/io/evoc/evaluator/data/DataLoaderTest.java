package io.evoc.evaluator.data;

import static io.evoc.evaluator.data.Fixtures.counting;
import static io.evoc.evaluator.data.Fixtures.writeIdx;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evoc.evaluator.data.DataSpec.Split;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataLoaderTest {
  @TempDir Path tmp;

  @Test
  void specsPickTheSplitFromATrailingSuffixOnly() throws IOException {
    assertThat(DataSpec.parse("/data/mnist")).isEqualTo(new DataSpec(Path.of("/data/mnist"), Split.TEST, false));
    assertThat(DataSpec.parse("/data/mnist:train"))
        .isEqualTo(new DataSpec(Path.of("/data/mnist"), Split.TRAIN, true));
    assertThat(DataSpec.parse("/data/a:b/mnist:test"))
        .isEqualTo(new DataSpec(Path.of("/data/a:b/mnist"), Split.TEST, true));
    assertThat(DataSpec.parse("/data/x:train/y.npz"))
        .isEqualTo(new DataSpec(Path.of("/data/x:train/y.npz"), Split.TEST, false));

    Path literal = Files.createDirectory(tmp.resolve("odd:train"));
    assertThat(DataSpec.parse(literal.toString()))
        .isEqualTo(new DataSpec(literal, Split.TEST, false));
  }

  @Test
  void loadsBothSplitsOfAnIdxDirectory() {
    String dir = Fixtures.fashion().toString();

    DataSet test = DataLoader.load(dir, 0);
    DataSet train = DataLoader.load(dir + ":train", 0);

    assertThat(test.size()).isEqualTo(10_000);
    assertThat(test.labels()[0]).isEqualTo(9);
    assertThat(train.size()).isEqualTo(60_000);
    assertThat(train.labels()[0]).isEqualTo(9);
    assertThat(DataLoader.load(dir + ":test", 5).labels()).containsExactly(9, 2, 1, 1, 6);
  }

  @Test
  void findsTheDottedNamesAndAcceptsADirectoryWithoutLabels() throws IOException {
    writeIdx(tmp.resolve("t10k-images.idx3-ubyte"), 0x803, new int[] {3, 2, 2}, counting(12), false);

    DataSet data = DataLoader.load(tmp.toString(), 0);

    assertThat(data.size()).isEqualTo(3);
    assertThat(data.hasLabels()).isFalse();
    assertThat(data.source()).isEqualTo(tmp.resolve("t10k-images.idx3-ubyte").toString());
  }

  @Test
  void loadsAnImagesFileWithItsSiblingLabels() {
    Path images = Fixtures.fashion().resolve("t10k-images-idx3-ubyte.gz");

    DataSet data = DataLoader.load(images.toString(), 3);

    assertThat(data.labels()).containsExactly(9, 2, 1);
  }

  @Test
  void limitTakesTheFirstSamples() {
    Path npz = Fixtures.examples().resolve("fashion-test-100.npz");

    DataSet all = DataLoader.load(npz.toString(), 0);
    DataSet first = DataLoader.load(npz.toString(), 7);
    DataSet more = DataLoader.load(npz.toString(), 1000);

    assertThat(first.size()).isEqualTo(7);
    assertThat(first.labels()).containsExactly(Arrays.copyOf(all.labels(), 7));
    assertThat(more.size()).isEqualTo(100);
  }

  @Test
  void skipTakesTheSamplesAfterTheFirst() {
    DataSet all = DataLoader.load(Fixtures.examples().resolve("fashion-test-100.npz").toString(), 0);

    DataSet rest = all.skip(30);

    assertThat(rest.size()).isEqualTo(70);
    assertThat(rest.labels()).containsExactly(Arrays.copyOfRange(all.labels(), 30, 100));
    assertThat(rest.values()).startsWith(Arrays.copyOfRange(all.values(), 30 * 784, 31 * 784));
    assertThat(all.skip(100).size()).isZero();
    assertThat(all.skip(500).size()).isZero();
    assertThatThrownBy(() -> all.skip(-1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void kerasStyleNpzMatchesTheIdxFiles() {
    Path npz = Fixtures.examples().resolve("fashion-test-100.npz");
    DataSet idxTest = DataLoader.load(Fixtures.fashion().toString(), 100);
    DataSet idxTrain = DataLoader.load(Fixtures.fashion() + ":train", 100);

    DataSet test = DataLoader.load(npz.toString(), 0);
    DataSet train = DataLoader.load(npz + ":train", 0);

    assertThat(test.values()).isEqualTo(idxTest.values());
    assertThat(test.labels()).isEqualTo(idxTest.labels());
    assertThat(test.sampleShape()).containsExactly(28, 28);
    assertThat(test.storedType()).isEqualTo(StoredType.UINT8);
    assertThat(train.values()).isEqualTo(idxTrain.values());
    assertThat(train.labels()).isEqualTo(idxTrain.labels());
    assertThat(DataLoader.load(npz + ":test", 0).labels()).isEqualTo(test.labels());
  }

  @Test
  void deflatedNpzWithInt64Labels() {
    DataSet idx = DataLoader.load(Fixtures.fashion().toString(), 50);

    DataSet data = DataLoader.load(Fixtures.examples().resolve("fashion-test-50-xy.npz").toString(), 0);

    assertThat(data.values()).isEqualTo(idx.values());
    assertThat(data.labels()).isEqualTo(idx.labels());
  }

  @Test
  void float32NpyHoldsScaledImagesWithoutLabels() {
    DataSet idx = DataLoader.load(Fixtures.fashion().toString(), 20);

    DataSet data = DataLoader.load(Fixtures.examples().resolve("fashion-test-20-f32.npy").toString(), 0);

    assertThat(data.sampleShape()).containsExactly(28, 28, 1);
    assertThat(data.storedType()).isEqualTo(StoredType.FLOAT);
    assertThat(data.hasLabels()).isFalse();
    for (int i = 0; i < data.values().length; i++) {
      assertThat(data.values()[i]).isEqualTo(idx.values()[i] / 255f);
    }
  }

  @Test
  void readsEveryNpyHeaderVersionAndByteOrder() {
    float[] expected = new float[12];
    for (int i = 0; i < 12; i++) {
      expected[i] = i / 4f;
    }
    for (String name : new String[] {"v1-f4.npy", "v2-f4.npy", "v3-f4.npy", "be-f4.npy", "f8.npy"}) {
      DataSet data = DataLoader.load(Fixtures.formats(name).toString(), 0);

      assertThat(data.values()).as(name).containsExactly(expected);
      assertThat(data.sampleShape()).as(name).containsExactly(2, 2);
      assertThat(data.storedType()).as(name).isEqualTo(StoredType.FLOAT);
    }
  }

  @Test
  void readsInt32InputsAndFloat64InputsWithInt32Labels() {
    DataSet ints = DataLoader.load(Fixtures.formats("i4.npy").toString(), 0);
    DataSet npz = DataLoader.load(Fixtures.formats("f8-i4.npz").toString(), 0);

    assertThat(ints.values()).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11);
    assertThat(ints.storedType()).isEqualTo(StoredType.INTEGER);
    assertThat(npz.values()[11]).isEqualTo(2.75f);
    assertThat(npz.labels()).containsExactly(2, 0, 1);
  }

  @Test
  void npzLabelsAreOptional() {
    DataSet data = DataLoader.load(Fixtures.formats("x-only.npz").toString(), 0);

    assertThat(data.size()).isEqualTo(3);
    assertThat(data.hasLabels()).isFalse();
  }

  @Test
  void rejectsFortranOrder() {
    Path file = Fixtures.formats("fortran.npy");

    assertThatThrownBy(() -> DataLoader.load(file.toString(), 0))
        .isInstanceOf(DataException.class)
        .hasMessageStartingWith(file + ": Fortran-order arrays are not supported");
  }

  @Test
  void rejectsUnsupportedDtypes() {
    Path file = Fixtures.formats("c8.npy");

    assertThatThrownBy(() -> DataLoader.load(file.toString(), 0))
        .hasMessage(file + ": unsupported dtype '<c8' (evoc reads float32/64, (u)int8/16/32/64 "
            + "and bool)");
  }

  @Test
  void rejectsOneHotLabels() {
    Path file = Fixtures.formats("onehot.npz");

    assertThatThrownBy(() -> DataLoader.load(file.toString(), 0))
        .hasMessageStartingWith(file + " (y.npy): labels of shape [3,3] (expected one class index");
  }

  @Test
  void rejectsAMissingSplitAndSaysWhichOneExists() {
    Path file = Fixtures.formats("train-only.npz");
    Path xy = Fixtures.formats("x-only.npz");

    assertThatThrownBy(() -> DataLoader.load(file.toString(), 0))
        .hasMessage(file + ": no x_test or x array (it holds x_train, y_train); use " + file + ":train");
    assertThatThrownBy(() -> DataLoader.load(xy + ":train", 0))
        .hasMessage(xy + ": no x_train array (it holds x); use " + xy + " without a split");
    assertThat(DataLoader.load(file + ":train", 0).labels()).containsExactly(0, 1, 2);
  }

  @Test
  void rejectsBadNpyHeaders() throws IOException {
    byte[] good = Files.readAllBytes(Fixtures.formats("v1-f4.npy"));
    Path magic = write("magic.npy", good, 0, (byte) 'X');
    Path version = write("version.npy", good, 6, (byte) 7);
    String header = new String(good, 10, 64, StandardCharsets.ISO_8859_1);
    Path noShape = write("noshape.npy", good, 10 + header.indexOf("shape"), (byte) 'S');
    Path badShape = write("badshape.npy", good, 10 + header.indexOf("(3") + 1, (byte) 'x');

    assertThatThrownBy(() -> DataLoader.load(magic.toString(), 0))
        .hasMessage(magic + ": not a .npy file (no \\x93NUMPY magic string)");
    assertThatThrownBy(() -> DataLoader.load(version.toString(), 0))
        .hasMessage(version + ": .npy format version 7.0 is not supported (evoc reads 1.0, 2.0 and 3.0)");
    assertThatThrownBy(() -> DataLoader.load(noShape.toString(), 0))
        .hasMessage(noShape + ": bad .npy header (no 'shape')");
    assertThatThrownBy(() -> DataLoader.load(badShape.toString(), 0))
        .hasMessage(badShape + ": bad .npy header (shape (x, 2, 2))");
  }

  @Test
  void rejectsTruncatedNpyAndNpzFiles() throws IOException {
    byte[] npy = Files.readAllBytes(Fixtures.examples().resolve("fashion-test-20-f32.npy"));
    byte[] npz = Files.readAllBytes(Fixtures.examples().resolve("fashion-test-50-xy.npz"));
    Path cutNpy = Files.write(tmp.resolve("cut.npy"), Arrays.copyOf(npy, npy.length - 10));
    Path cutHeader = Files.write(tmp.resolve("header.npy"), Arrays.copyOf(npy, 40));
    Path cutNpz = Files.write(tmp.resolve("cut.npz"), Arrays.copyOf(npz, npz.length / 2));

    assertThatThrownBy(() -> DataLoader.load(cutNpy.toString(), 0))
        .hasMessage(cutNpy + ": truncated (the header promises more data than the file holds)");
    assertThatThrownBy(() -> DataLoader.load(cutNpy.toString(), 2))
        .hasMessage(cutNpy + ": truncated (the header promises 62848 bytes, the file holds 62838)");
    assertThatThrownBy(() -> DataLoader.load(cutHeader.toString(), 0))
        .hasMessage(cutHeader + ": truncated (the header promises more data than the file holds)");
    assertThatThrownBy(() -> DataLoader.load(cutNpz.toString(), 0))
        .hasMessage(cutNpz + ": not a .npz file (not a zip archive, or truncated)");
  }

  @Test
  void rejectsNpzLabelCountsThatDifferFromTheSampleCount() throws IOException {
    Path file = tmp.resolve("mismatch.npz");
    byte[] x = Files.readAllBytes(Fixtures.formats("v1-f4.npy"));
    byte[] y = npyEntry(Fixtures.examples().resolve("fashion-test-100.npz"), "y_test.npy");
    writeZip(file, "x.npy", x, "y.npy", y);

    assertThatThrownBy(() -> DataLoader.load(file.toString(), 0))
        .hasMessage(file + ": 100 labels in y for 3 samples in x");
  }

  @Test
  void rejectsPathsThatAreNotData() throws IOException {
    Path missing = tmp.resolve("missing");
    Path empty = Files.createDirectory(tmp.resolve("empty"));
    Path text = Files.writeString(tmp.resolve("data.csv"), "1,2,3\n");
    Path npy = Fixtures.formats("v1-f4.npy");
    Path trainOnly = Files.createDirectory(tmp.resolve("trainonly"));
    writeIdx(trainOnly.resolve("train-images-idx3-ubyte"), 0x803, new int[] {1, 1}, new byte[1], false);

    assertThatThrownBy(() -> DataLoader.load(missing + ":train", 0))
        .hasMessage(missing + ": no such file or directory");
    assertThatThrownBy(() -> DataLoader.load(empty.toString(), 0))
        .hasMessage(empty + ": no IDX test images (looked for t10k-images-idx3-ubyte[.gz] and "
            + "similar names)");
    assertThatThrownBy(() -> DataLoader.load(trainOnly.toString(), 0))
        .hasMessageEndingWith("; it has train images: use " + trainOnly + ":train");
    assertThatThrownBy(() -> DataLoader.load(text.toString(), 0))
        .hasMessage(text + ": unknown data format (expected an IDX directory, a .npy file or a "
            + ".npz file)");
    assertThatThrownBy(() -> DataLoader.load(npy + ":train", 0))
        .hasMessage(npy + ":train: a split (:train or :test) applies only to an IDX directory or "
            + "a .npz file");
    assertThatThrownBy(() -> DataLoader.load("", 0)).isInstanceOf(DataException.class);
  }

  private Path write(String name, byte[] bytes, int at, byte value) throws IOException {
    byte[] copy = bytes.clone();
    copy[at] = value;
    return Files.write(tmp.resolve(name), copy);
  }

  private static byte[] npyEntry(Path npz, String entry) throws IOException {
    try (ZipFile zip = new ZipFile(npz.toFile())) {
      return zip.getInputStream(zip.getEntry(entry)).readAllBytes();
    }
  }

  private static void writeZip(Path file, String n1, byte[] b1, String n2, byte[] b2)
      throws IOException {
    try (ZipOutputStream out =
        new ZipOutputStream(Files.newOutputStream(file))) {
      out.putNextEntry(new ZipEntry(n1));
      out.write(b1);
      out.putNextEntry(new ZipEntry(n2));
      out.write(b2);
    }
  }
}
