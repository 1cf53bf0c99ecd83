package io.evoc.coordinator.server;

import io.evoc.protocol.jobs.Blob;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * Files kept once by their SHA-256 under {@code <data-dir>/blobs}: uploads, artifacts and reports.
 * A blob is written to a temporary file, hashed as it is written, then moved into place, so a
 * crash never leaves a partial file under a valid name.
 */
public final class BlobStore {
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private final Path dir;
  private final Path incoming;

  public BlobStore(Path dataDir) {
    this.dir = dataDir.resolve("blobs");
    this.incoming = dataDir.resolve("incoming");
    try {
      Files.createDirectories(dir);
      Files.createDirectories(incoming);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dir, e);
    }
  }

  /** A fresh temporary file to receive an upload; {@link #put} moves it into the store. */
  public Path temporary() throws IOException {
    return Files.createTempFile(incoming, "upload-", ".part");
  }

  /** Moves a finished file into the store under its SHA-256. */
  public Blob put(Path file, String name) throws IOException {
    String sha;
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest())) {
      in.transferTo(java.io.OutputStream.nullOutputStream());
      sha = HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
    }
    long bytes = Files.size(file);
    Path target = path(sha);
    if (Files.exists(target)) {
      Files.delete(file);
    } else {
      Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
    }
    return Blob.newBuilder().setSha256(sha).setBytes(bytes).setName(name).build();
  }

  /** Bytes made in memory (a student, a scoring batch) into the store. */
  public Blob putBytes(byte[] bytes, String name) throws IOException {
    Path tmp = temporary();
    Files.write(tmp, bytes);
    return put(tmp, name);
  }

  /** Copies a file (a job's output) into the store. */
  public Blob copy(Path file, String name) throws IOException {
    Path tmp = temporary();
    Files.copy(file, tmp, StandardCopyOption.REPLACE_EXISTING);
    return put(tmp, name);
  }

  /**
   * A blob's bytes, checked against its SHA-256.
   *
   * @throws IOException when it is missing or damaged
   */
  public byte[] read(Blob blob) throws IOException {
    byte[] bytes = Files.readAllBytes(path(blob));
    String sha = HexFormat.of().formatHex(digest().digest(bytes));
    if (!sha.equals(blob.getSha256())) {
      throw new IOException("blob " + blob.getSha256() + " (" + blob.getName() + ") is damaged: its SHA-256 is " + sha);
    }
    return bytes;
  }

  /** Removes a blob nothing refers to any more (a superseded checkpoint); absent is fine. */
  public void delete(Blob blob) throws IOException {
    Files.deleteIfExists(path(blob));
  }

  public Path path(Blob blob) {
    return path(blob.getSha256());
  }

  /** A blob by its SHA-256 text; null when the text is not one or nothing is stored under it. */
  public Path find(String sha256) {
    if (!SHA256.matcher(sha256).matches()) {
      return null;
    }
    Path p = dir.resolve(sha256);
    return Files.isRegularFile(p) ? p : null;
  }

  private Path path(String sha256) {
    if (!SHA256.matcher(sha256).matches()) {
      throw new IllegalArgumentException("not a SHA-256: " + sha256);
    }
    return dir.resolve(sha256);
  }

  /** Temporary files left by a crash mid-upload. */
  public void clearIncoming() throws IOException {
    try (var files = Files.list(incoming)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Files.deleteIfExists(p);
      }
    }
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
