package io.evoc.evaluator.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/** MNIST-format IDX files (unsigned-byte images and labels), gzipped or raw. */
public final class IdxFiles {
  private static final int UBYTE = 0x08;

  private IdxFiles() {}

  /** Images and their labels; the two files must hold the same number of items. */
  public static DataSet read(Path images, Path labels) {
    return read(images, labels, 0);
  }

  /**
   * The first {@code limit} images (all when limit ≤ 0) and their labels; {@code labels} may be
   * null for a data set without them. The label count is checked against the whole image file.
   */
  public static DataSet read(Path images, Path labels, int limit) {
    Idx x = readUbyte(images);
    if (x.dims[0] == 0) {
      throw new DataException(images + ": holds no images");
    }
    int[] ys = null;
    if (labels != null) {
      Idx y = readUbyte(labels);
      if (y.dims.length != 1) {
        throw new DataException(labels + ": expected a 1-D label file, got "
            + y.dims.length + " dimensions");
      }
      if (y.dims[0] != x.dims[0]) {
        throw new DataException(labels + ": " + y.dims[0] + " labels for " + x.dims[0]
            + " images in " + images);
      }
      ys = new int[y.data.length];
      for (int i = 0; i < ys.length; i++) {
        ys[i] = y.data[i] & 0xff;
      }
    }
    long[] sample = Arrays.copyOfRange(x.dims, 1, x.dims.length);
    if (sample.length == 0) {
      sample = new long[] {1};
    }
    int count = (int) x.dims[0];
    int n = limit > 0 ? Math.min(limit, count) : count;
    int per = x.data.length / count;
    float[] values = new float[n * per];
    for (int i = 0; i < values.length; i++) {
      values[i] = x.data[i] & 0xff;
    }
    if (ys != null && n < ys.length) {
      ys = Arrays.copyOf(ys, n);
    }
    return new DataSet(images.toString(), values, sample, ys, StoredType.UINT8);
  }

  record Idx(long[] dims, byte[] data) {}

  static Idx readUbyte(Path file) {
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      raw.mark(2);
      boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
      raw.reset();
      try (DataInputStream in = new DataInputStream(gzip ? new GZIPInputStream(raw, 1 << 16) : raw)) {
        return readUbyte(file, in);
      }
    } catch (IOException e) {
      throw DataException.reading(file, e);
    }
  }

  private static Idx readUbyte(Path file, DataInputStream in) throws IOException {
    int magic = in.readInt();
    int type = (magic >>> 8) & 0xff;
    int rank = magic & 0xff;
    if ((magic >>> 16) != 0 || rank == 0 || rank > 4) {
      throw new DataException(file + ": bad IDX magic number 0x" + Integer.toHexString(magic)
          + " (expected 0x0000080N, unsigned bytes of rank N)");
    }
    if (type != UBYTE) {
      throw new DataException(file + ": IDX element type 0x" + Integer.toHexString(type)
          + " is not supported (evoc reads unsigned-byte IDX files, type 0x08)");
    }
    long[] dims = new long[rank];
    long count = 1;
    for (int i = 0; i < rank; i++) {
      dims[i] = Integer.toUnsignedLong(in.readInt());
      if (dims[i] == 0 && i > 0) {
        throw new DataException(file + ": dimension " + i + " of " + DataSet.shapeText(dims) + " is zero");
      }
      count = Math.min(count * dims[i], Integer.MAX_VALUE);
    }
    // Floats are 4 bytes each once loaded: cap what the header may ask for at 2 GB of them.
    if (count > (Integer.MAX_VALUE - 16) / Float.BYTES) {
      throw new DataException(file + ": " + DataSet.shapeText(dims)
          + " is more data than evoc loads at once (2 GB as float32)");
    }
    // Read as the data arrives, so a short file claiming a huge shape allocates nothing large.
    byte[] data = in.readNBytes((int) count);
    if (data.length < count) {
      throw new DataException(file + ": truncated (the header promises " + count
          + " bytes of data, the file holds " + data.length + ")");
    }
    return new Idx(dims, data);
  }
}
