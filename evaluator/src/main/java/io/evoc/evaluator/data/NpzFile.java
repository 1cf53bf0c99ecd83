package io.evoc.evaluator.data;

import io.evoc.evaluator.data.DataSpec.Split;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;

/**
 * NumPy's {@code .npz}: a zip archive (entries stored or deflated) of {@code .npy} arrays. Inputs
 * and labels are {@code x} and {@code y}, or Keras-style {@code x_train}/{@code y_train}/{@code
 * x_test}/{@code y_test} with the split choosing; labels are optional.
 */
final class NpzFile {
  private NpzFile() {}

  static DataSet read(Path file, Split split, boolean splitGiven, int limit) {
    if (!Files.isRegularFile(file)) {
      throw new DataException(file + ": no such file");
    }
    try (ZipFile zip = open(file)) {
      Map<String, ZipEntry> arrays = new TreeMap<>();
      zip.stream().forEach(e -> arrays.put(e.getName().replaceFirst("\\.npy$", ""), e));
      String suffix = "_" + split.lowerCase();
      String x = arrays.containsKey("x" + suffix) ? "x" + suffix
          : !splitGiven && arrays.containsKey("x") ? "x" : null;
      if (x == null) {
        throw new DataException(file + ": no " + (splitGiven ? "x" + suffix : "x_test or x")
            + " array (it holds " + (arrays.isEmpty() ? "no arrays" : String.join(", ", arrays.keySet())) + ")"
            + hint(file, arrays));
      }
      String y = x.equals("x") ? "y" : "y" + suffix;
      NpyArray inputs = array(zip, file, arrays.get(x), limit);
      int[] labels = null;
      if (arrays.containsKey(y)) {
        NpyArray ys = array(zip, file, arrays.get(y), limit);
        if (ys.rows() != inputs.rows()) {
          throw new DataException(file + ": " + ys.rows() + " labels in " + y + " for "
              + inputs.rows() + " samples in " + x);
        }
        labels = ys.toLabels();
      }
      return inputs.toDataSet(file.toString(), labels);
    } catch (IOException e) {
      throw DataException.reading(file, e);
    }
  }

  private static ZipFile open(Path file) throws IOException {
    try {
      return new ZipFile(file.toFile());
    } catch (ZipException e) {
      throw new DataException(file + ": not a .npz file (not a zip archive, or truncated)");
    }
  }

  private static NpyArray array(ZipFile zip, Path file, ZipEntry entry, int limit)
      throws IOException {
    String source = file + " (" + entry.getName() + ")";
    try (InputStream in = zip.getInputStream(entry)) {
      return Npy.read(in, source, limit);
    } catch (IOException e) {
      throw DataException.reading(source, e);
    }
  }

  private static String hint(Path file, Map<String, ZipEntry> arrays) {
    for (Split other : Split.values()) {
      if (arrays.containsKey("x_" + other.lowerCase())) {
        return "; use " + file + ":" + other.lowerCase();
      }
    }
    return arrays.containsKey("x") ? "; use " + file + " without a split" : "";
  }
}
