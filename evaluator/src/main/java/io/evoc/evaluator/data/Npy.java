package io.evoc.evaluator.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads NumPy's {@code .npy} format, versions 1.0, 2.0 and 3.0: a magic string, a version, a
 * Python dict literal giving dtype, order and shape, then the data. C order only.
 */
final class Npy {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final int MAX_HEADER = 1 << 20;
  private static final Pattern DESCR =
      Pattern.compile("['\"]descr['\"]\\s*:\\s*['\"]([^'\"]*)['\"]");
  private static final Pattern STRUCTURED = Pattern.compile("['\"]descr['\"]\\s*:\\s*\\[");
  private static final Pattern FORTRAN =
      Pattern.compile("['\"]fortran_order['\"]\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("['\"]shape['\"]\\s*:\\s*\\(([^)]*)\\)");

  private Npy() {}

  /** The array in {@code file}, with only its first {@code maxRows} rows read when maxRows > 0. */
  static NpyArray read(Path file, int maxRows) {
    try (InputStream in = Files.newInputStream(file)) {
      NpyArray array = read(in, file.toString(), maxRows);
      long expected = array.headerBytes() + array.totalBytes();
      if (Files.size(file) < expected) {
        throw new DataException(file + ": truncated (the header promises " + expected
            + " bytes, the file holds " + Files.size(file) + ")");
      }
      return array;
    } catch (IOException e) {
      throw DataException.reading(file, e);
    }
  }

  /**
   * The array that {@code in} holds, {@code source} naming it in messages; reads only the first
   * {@code maxRows} rows when maxRows > 0 and leaves the rest of the stream unread.
   */
  static NpyArray read(InputStream stream, String source, int maxRows) throws IOException {
    DataInputStream in = new DataInputStream(new BufferedInputStream(stream, 1 << 16));
    byte[] magic = in.readNBytes(MAGIC.length);
    if (!Arrays.equals(magic, MAGIC)) {
      throw new DataException(source + ": not a .npy file (no \\x93NUMPY magic string)");
    }
    int major = in.readUnsignedByte();
    int minor = in.readUnsignedByte();
    if (major < 1 || major > 3 || minor != 0) {
      throw new DataException(source + ": .npy format version " + major + "." + minor
          + " is not supported (evoc reads 1.0, 2.0 and 3.0)");
    }
    long headerLength = major == 1
        ? Short.toUnsignedInt(Short.reverseBytes(in.readShort()))
        : Integer.toUnsignedLong(Integer.reverseBytes(in.readInt()));
    if (headerLength > MAX_HEADER) {
      throw new DataException(source + ": bad .npy header (claims " + headerLength + " bytes)");
    }
    byte[] headerBytes = new byte[(int) headerLength];
    in.readFully(headerBytes);
    String header = new String(headerBytes,
        major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    NpyType type = type(header, source);
    long[] shape = shape(header, source);
    long totalBytes = type.width();
    for (long d : shape) {
      totalBytes = multiply(totalBytes, d, source);
    }
    long rows = shape.length == 0 ? 1 : shape[0];
    long rowBytes = rows == 0 ? 0 : totalBytes / rows;
    long readRows = maxRows > 0 ? Math.min(rows, maxRows) : rows;
    long readBytes = readRows * rowBytes;
    if (readBytes > Integer.MAX_VALUE - 16) {
      throw new DataException(source + ": an array of shape " + DataSet.shapeText(shape)
          + " is more data than evoc loads at once (2 GB)");
    }
    byte[] data = in.readNBytes((int) readBytes);
    if (data.length < readBytes) {
      throw new EOFException();
    }
    ByteBuffer buffer = ByteBuffer.wrap(data).order(type.order());
    int prefix = MAGIC.length + 2 + (major == 1 ? 2 : 4);
    return new NpyArray(source, type, shape, (int) readRows, buffer, prefix + headerLength,
        totalBytes);
  }

  private static NpyType type(String header, String source) {
    Matcher descr = DESCR.matcher(header);
    if (!descr.find()) {
      if (STRUCTURED.matcher(header).find()) {
        throw new DataException(source + ": unsupported dtype (structured arrays are not "
            + "supported; evoc reads " + NpyType.SUPPORTED + ")");
      }
      throw new DataException(source + ": bad .npy header (no 'descr')");
    }
    NpyType type = NpyType.parse(descr.group(1));
    if (type == null) {
      throw new DataException(source + ": unsupported dtype '" + printable(descr.group(1))
          + "' (evoc reads " + NpyType.SUPPORTED + ")");
    }
    Matcher fortran = FORTRAN.matcher(header);
    if (!fortran.find()) {
      throw new DataException(source + ": bad .npy header (no 'fortran_order')");
    }
    if (fortran.group(1).equals("True")) {
      throw new DataException(source + ": Fortran-order arrays are not supported "
          + "(save it with np.save(path, np.ascontiguousarray(a)))");
    }
    return type;
  }

  private static long[] shape(String header, String source) {
    Matcher shape = SHAPE.matcher(header);
    if (!shape.find()) {
      throw new DataException(source + ": bad .npy header (no 'shape')");
    }
    List<Long> dims = new ArrayList<>();
    for (String part : shape.group(1).split(",")) {
      String dim = part.strip();
      if (dim.endsWith("L")) {
        dim = dim.substring(0, dim.length() - 1);
      }
      if (dim.isEmpty()) {
        continue;
      }
      try {
        long d = Long.parseLong(dim);
        if (d < 0) {
          throw new NumberFormatException();
        }
        dims.add(d);
      } catch (NumberFormatException e) {
        throw new DataException(source + ": bad .npy header (shape ("
            + printable(shape.group(1)) + "))");
      }
    }
    return dims.stream().mapToLong(Long::longValue).toArray();
  }

  /** Header text fit for a one-line message: control characters and the like become '?'. */
  private static String printable(String text) {
    return text.codePoints()
        .map(c -> Character.isISOControl(c) || c > 0x7e && c < 0xa0 ? '?' : c)
        .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
        .toString();
  }

  private static long multiply(long a, long b, String source) {
    try {
      return Math.multiplyExact(a, b);
    } catch (ArithmeticException e) {
      throw new DataException(source + ": bad .npy header (a shape too large to exist)");
    }
  }
}
