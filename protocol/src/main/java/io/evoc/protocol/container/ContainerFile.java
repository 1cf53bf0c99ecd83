package io.evoc.protocol.container;

import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The .evoc file around a {@link Container} message: magic, format version, payload length, the
 * payload, and SHA-256 of everything before the digest. Reading checks the frame and the digest
 * before parsing, so truncation, extra bytes, an unknown version or any damaged byte give a
 * one-line {@link ContainerException} and nothing is decoded from a bad file.
 */
public final class ContainerFile {
  /** The version written: 2 added uniform grids. */
  public static final int FORMAT_VERSION = 2;
  /** The oldest version read: a version 1 file is a version 2 file without grids. */
  static final int OLDEST_VERSION = 1;
  /** PNG-style: a high byte (not text), the name, CR LF and ^Z (catch text-mode mangling). */
  static final byte[] MAGIC = {(byte) 0x8a, 'E', 'V', 'O', 'C', '\r', '\n', 0x1a};
  static final int HEADER = MAGIC.length + 4 + 8;
  static final int DIGEST = 32;
  /** Protobuf messages stop at 2 GiB; so does the container. */
  public static final long MAX_PAYLOAD = Integer.MAX_VALUE - HEADER - DIGEST;

  private ContainerFile() {}

  public static byte[] toBytes(Container container) {
    byte[] payload = container.toByteArray();
    ByteBuffer out = ByteBuffer.allocate(HEADER + payload.length + DIGEST).order(ByteOrder.LITTLE_ENDIAN);
    out.put(MAGIC).putInt(FORMAT_VERSION).putLong(payload.length).put(payload);
    out.put(sha256(out.array(), 0, HEADER + payload.length));
    return out.array();
  }

  /** Writes to a temporary file beside {@code path}, then moves it into place: never a half-written container. */
  public static void write(Container container, Path path) throws IOException {
    io.evoc.protocol.files.WholeFiles.write(path, toBytes(container));
  }

  public static Container read(Path path) {
    long size;
    try {
      size = Files.size(path);
    } catch (java.nio.file.NoSuchFileException e) {
      throw new ContainerException(path + ": no such file");
    } catch (IOException e) {
      throw new ContainerException(path + ": cannot read: " + e.getMessage());
    }
    if (size > HEADER + MAX_PAYLOAD + DIGEST) {
      throw new ContainerException(path + ": " + size + " bytes, larger than any container (2 GiB)");
    }
    try {
      return parse(Files.readAllBytes(path), path.toString());
    } catch (IOException e) {
      throw new ContainerException(path + ": cannot read: " + e.getMessage());
    }
  }

  /**
   * @param source names the file in error messages
   */
  public static Container parse(byte[] file, String source) {
    if (file.length < MAGIC.length || !Arrays.equals(file, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      throw new ContainerException(source + ": not an evoc container (no .evoc magic at the start)");
    }
    if (file.length < HEADER + DIGEST) {
      throw new ContainerException(source + ": truncated: " + file.length + " bytes, shorter than an empty container");
    }
    ByteBuffer header = ByteBuffer.wrap(file, MAGIC.length, HEADER - MAGIC.length).order(ByteOrder.LITTLE_ENDIAN);
    int version = header.getInt();
    if (version < OLDEST_VERSION || version > FORMAT_VERSION) {
      throw new ContainerException(source + ": format version " + Integer.toUnsignedString(version)
          + "; this evoc reads versions " + OLDEST_VERSION + " to " + FORMAT_VERSION);
    }
    long length = header.getLong();
    long held = file.length - HEADER - DIGEST;
    if (length != held) {
      throw new ContainerException(source + ": " + (length < 0 || length > held ? "truncated" : "trailing bytes")
          + ": the header announces " + Long.toUnsignedString(length) + " payload bytes, the file holds " + held);
    }
    int end = HEADER + (int) length;
    if (!MessageDigest.isEqual(sha256(file, 0, end), Arrays.copyOfRange(file, end, file.length))) {
      throw new ContainerException(source + ": checksum mismatch: the file is damaged");
    }
    Container c;
    try {
      c = Container.parseFrom(ByteBuffer.wrap(file, HEADER, (int) length));
    } catch (InvalidProtocolBufferException e) {
      throw new ContainerException(source + ": payload does not parse: " + e.getMessage());
    }
    if (c.getFormatVersion() != version) {
      throw new ContainerException(source + ": payload says format version " + c.getFormatVersion() + ", frame says "
          + version);
    }
    return c;
  }

  static byte[] sha256(byte[] data, int from, int to) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(data, from, to - from);
      return d.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
