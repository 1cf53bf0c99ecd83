package io.evoc.evaluator.data;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The one way commands take data. A spec is {@code PATH[:train|:test]} (see {@link DataSpec}):
 *
 * <ul>
 *   <li>a directory of MNIST-style IDX files, the split choosing {@code train-*} or {@code t10k-*};
 *   <li>an IDX images file itself ({@code ...-images-idx3-ubyte[.gz]}), labels taken from the
 *       sibling {@code ...-labels-idx1-ubyte[.gz]} when there is one;
 *   <li>a {@code .npy} file: inputs only, no labels, no split;
 *   <li>a {@code .npz} file with {@code x}/{@code y} or {@code x_train}/{@code y_train}/{@code
 *       x_test}/{@code y_test}, the split choosing between the latter.
 * </ul>
 *
 * <p>The result holds values as stored; fit it to the model with {@link ModelInput#fit} and then
 * apply {@link Preprocessing}. Every failure is a {@link DataException} with a one-line message.
 */
public final class DataLoader {
  private DataLoader() {}

  /** The first {@code limit} samples (all when limit ≤ 0) of the data {@code spec} names. */
  public static DataSet load(String spec, int limit) {
    return load(DataSpec.parse(spec), limit);
  }

  /**
   * The files a spec's data lives in, for uploading it: an IDX split's images and labels (labels
   * null when there are none), or the one .npy/.npz/IDX file named.
   */
  public static Path[] files(String text) {
    DataSpec spec = DataSpec.parse(text);
    Path path = spec.path();
    if (Files.isDirectory(path)) {
      return IdxDirectory.files(path, spec.split());
    }
    if (!Files.isRegularFile(path)) {
      throw new DataException(path + ": no such file or directory");
    }
    if (spec.splitGiven()) {
      throw new DataException(spec + ": a split (:train or :test) applies to an IDX directory here");
    }
    String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
    return new Path[] {path, IdxDirectory.isIdxName(name) ? IdxDirectory.siblingLabels(path) : null};
  }

  public static DataSet load(DataSpec spec, int limit) {
    return finite(read(spec, limit));
  }

  /** Refuses NaN and infinite inputs: no divergence, and so no search, can be measured on them. */
  private static DataSet finite(DataSet data) {
    float[] v = data.values();
    for (int i = 0; i < v.length; i++) {
      if (!Float.isFinite(v[i])) {
        long per = data.elementsPerSample();
        throw new DataException(data.source() + ": sample " + i / per + " holds " + v[i] + " (its value "
            + i % per + "); evoc takes finite inputs");
      }
    }
    return data;
  }

  private static DataSet read(DataSpec spec, int limit) {
    Path path = spec.path();
    if (Files.isDirectory(path)) {
      return IdxDirectory.read(path, spec.split(), limit);
    }
    if (!Files.exists(path)) {
      throw new DataException(path + ": no such file or directory");
    }
    String name = path.getFileName().toString().toLowerCase(Locale.ROOT);
    if (name.endsWith(".npz")) {
      return NpzFile.read(path, spec.split(), spec.splitGiven(), limit);
    }
    if (spec.splitGiven()) {
      throw new DataException(spec + ": a split (:train or :test) applies only to an IDX "
          + "directory or a .npz file");
    }
    if (name.endsWith(".npy")) {
      NpyArray array = Npy.read(path, limit);
      return array.toDataSet(path.toString(), null);
    }
    if (IdxDirectory.isIdxName(name)) {
      return IdxDirectory.readImagesFile(path, limit);
    }
    throw new DataException(path + ": unknown data format (expected an IDX directory, "
        + "a .npy file or a .npz file)");
  }
}
