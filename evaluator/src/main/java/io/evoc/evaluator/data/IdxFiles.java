package io.evoc.evaluator.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/** MNIST-format IDX files (unsigned-byte images and labels), gzipped or raw. */
public final class IdxFiles {
  private static final int UBYTE = 0x08;

  private IdxFiles() {}

  /** Images and their labels; the two files must hold the same number of items. */
  public static DataSet read(Path images, Path labels) {
    Idx x = readUbyte(images);
    Idx y = readUbyte(labels);
    if (y.dims.length != 1) {
      throw new DataException(labels + ": expected a 1-D label file, got " + y.dims.length + " dimensions");
    }
    if (y.dims[0] != x.dims[0]) {
      throw new DataException(labels + ": " + y.dims[0] + " labels for " + x.dims[0] + " images in " + images);
    }
    long[] sample = java.util.Arrays.copyOfRange(x.dims, 1, x.dims.length);
    float[] values = new float[x.data.length];
    for (int i = 0; i < values.length; i++) {
      values[i] = x.data[i] & 0xff;
    }
    int[] ys = new int[y.data.length];
    for (int i = 0; i < ys.length; i++) {
      ys[i] = y.data[i] & 0xff;
    }
    return new DataSet(images.toString(), values, sample.length == 0 ? new long[] {1} : sample, ys);
  }

  record Idx(long[] dims, byte[] data) {}

  static Idx readUbyte(Path file) {
    try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      raw.mark(2);
      boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
      raw.reset();
      DataInputStream in = new DataInputStream(gzip ? new GZIPInputStream(raw, 1 << 16) : raw);
      int magic = in.readInt();
      int type = (magic >>> 8) & 0xff;
      int rank = magic & 0xff;
      if ((magic >>> 16) != 0 || type != UBYTE || rank == 0 || rank > 4) {
        throw new DataException(file + ": bad IDX magic number 0x" + Integer.toHexString(magic)
            + " (expected 0x0000080N, unsigned bytes of rank N)");
      }
      long[] dims = new long[rank];
      long count = 1;
      for (int i = 0; i < rank; i++) {
        dims[i] = Integer.toUnsignedLong(in.readInt());
        count *= dims[i];
      }
      if (count > Integer.MAX_VALUE - 16) {
        throw new DataException(file + ": " + count + " elements is more than evoc loads at once");
      }
      byte[] data = new byte[(int) count];
      in.readFully(data);
      return new Idx(dims, data);
    } catch (NoSuchFileException e) {
      throw new DataException(file + ": no such file");
    } catch (EOFException e) {
      throw new DataException(file + ": truncated (the header promises more data than the file holds)");
    } catch (IOException e) {
      throw new DataException(file + ": cannot read (" + e.getMessage() + ")");
    }
  }
}
