package io.evoc.evaluator.data;

import io.evoc.evaluator.data.DataSpec.Split;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A directory of MNIST-style IDX files, found by their usual names: {@code
 * train-images-idx3-ubyte} and {@code t10k-images-idx3-ubyte} (also {@code test-} and the {@code
 * train-images.idx3-ubyte} spelling), each raw or {@code .gz}, with the matching {@code
 * labels-idx1} files. Labels are optional: a directory with only images gives a data set without labels.
 */
final class IdxDirectory {
  private IdxDirectory() {}

  static DataSet read(Path dir, Split split, int limit) {
    Path[] files = files(dir, split);
    return IdxFiles.read(files[0], files[1], limit);
  }

  /** The split's images file and its labels file (null when there is none). */
  static Path[] files(Path dir, Split split) {
    Path images = find(dir, split, "images", "idx3");
    if (images == null) {
      Split other = split == Split.TEST ? Split.TRAIN : Split.TEST;
      String hint = find(dir, other, "images", "idx3") == null
          ? ""
          : "; it has " + other.lowerCase() + " images: use " + dir + ":" + other.lowerCase();
      throw new DataException(dir + ": no IDX " + split.lowerCase() + " images (looked for "
          + prefixes(split).get(0) + "-images-idx3-ubyte[.gz] and similar names)" + hint);
    }
    return new Path[] {images, find(dir, split, "labels", "idx1")};
  }

  /** An images file given directly: its labels are the sibling with the labels name, if any. */
  static DataSet readImagesFile(Path images, int limit) {
    return IdxFiles.read(images, siblingLabels(images), limit);
  }

  /** The labels file beside an images file, or null. */
  static Path siblingLabels(Path images) {
    String name = images.getFileName().toString();
    // The sibling labels file, raw or gzipped whichever way the images file is.
    String base = name.replace("images", "labels").replace("idx3", "idx1").replaceFirst("\\.gz$", "");
    Path labels = null;
    for (String gz : List.of("", ".gz")) {
      Path candidate = images.resolveSibling(base + gz);
      if (labels == null && !candidate.equals(images) && Files.isRegularFile(candidate)) {
        labels = candidate;
      }
    }
    return labels;
  }

  static boolean isIdxName(String name) {
    return name.matches(".*idx[1-4][-.]ubyte(\\.gz)?");
  }

  private static Path find(Path dir, Split split, String kind, String idx) {
    for (String prefix : prefixes(split)) {
      for (String separator : List.of("-", ".")) {
        for (String gz : List.of("", ".gz")) {
          Path file = dir.resolve(prefix + "-" + kind + separator + idx + "-ubyte" + gz);
          if (Files.isRegularFile(file)) {
            return file;
          }
        }
      }
    }
    return null;
  }

  private static List<String> prefixes(Split split) {
    return split == Split.TRAIN ? List.of("train") : List.of("t10k", "test");
  }
}
