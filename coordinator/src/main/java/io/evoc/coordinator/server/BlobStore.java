package io.evoc.coordinator.server;

import io.evoc.evaluator.cluster.BlobRoute;
import io.evoc.protocol.jobs.Blob;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Files kept once by their SHA-256 in one directory ({@code <data-dir>/blobs} by default, or one
 * that the coordinator-role nodes share): uploads, checkpoints, artifacts and reports. A blob is
 * written to a temporary file beside it (in {@code incoming}, a sibling on the same file system),
 * hashed as it is written, then moved into place, so a crash never leaves a partial file under a
 * valid name, and a node reading a shared store never sees one. What a run publishes for the
 * evaluators only while it needs it (scoring batches, students) goes into a scratch store beside
 * it ({@code scratch}, a sibling): deleting one of those never takes a kept blob that happens to
 * have the same bytes (a student can be byte for byte a job's decompressed model). A blob kept only
 * while a record names it (a checkpoint; a forgotten job's files, until they are deleted) is marked
 * in {@code transient}, a sibling too, so that one a stopped node left behind unnamed can be found
 * and deleted.
 */
public final class BlobStore {
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
  private final Path dir;
  private final Path incoming;
  /** One empty file per transient blob, by SHA-256: see {@link #putTransient}. */
  private final Path marks;

  /** Temporary files untouched for this long are left over from a crash (see {@link #clearIncoming}). */
  private static final Duration ABANDONED = Duration.ofHours(1);

  /** Null in the scratch store itself. */
  private final BlobStore scratch;

  /** @param dir where the blobs are; temporary files go into its sibling {@code incoming} */
  public BlobStore(Path dir) {
    this(dir, true);
  }

  private BlobStore(Path dir, boolean withScratch) {
    this.dir = dir;
    this.incoming = dir.resolveSibling("incoming");
    this.marks = dir.resolveSibling("transient");
    this.scratch = withScratch ? new BlobStore(dir.resolveSibling("scratch"), false) : null;
    try {
      Files.createDirectories(dir);
      Files.createDirectories(incoming);
      Files.createDirectories(marks);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create " + dir, e);
    }
  }

  /** Where runs publish what the evaluators fetch while the run needs it. */
  public BlobStore scratch() {
    return scratch == null ? this : scratch;
  }

  /** A blob as the blob route serves it: from this store, else from its scratch store; null when neither has it. */
  public Path served(String sha256) {
    Path p = find(sha256);
    return p != null || scratch == null ? p : scratch.find(sha256);
  }

  /** A fresh temporary file to receive an upload; {@link #put} moves it into the store. */
  public Path temporary() throws IOException {
    return Files.createTempFile(incoming, "upload-", ".part");
  }

  /** Moves a finished file into the store under its SHA-256. */
  public Blob put(Path file, String name) throws IOException {
    return put(file, BlobRoute.sha256(file), name);
  }

  /** Moves a file whose SHA-256 is known into the store. */
  private Blob put(Path file, String sha, String name) throws IOException {
    long bytes = Files.size(file);
    moveIn(file, sha);
    return Blob.newBuilder().setSha256(sha).setBytes(bytes).setName(name).build();
  }

  /** The file under its SHA-256, or dropped when the store holds those bytes already; true when moved in. */
  private boolean moveIn(Path file, String sha) throws IOException {
    Path target = path(sha);
    if (Files.exists(target)) {
      Files.delete(file);
      return false;
    }
    Files.move(file, target, StandardCopyOption.ATOMIC_MOVE);
    return true;
  }

  /** Bytes made in memory (a student, a scoring batch) into the store. */
  public Blob putBytes(byte[] bytes, String name) throws IOException {
    Path tmp = temporary();
    Files.write(tmp, bytes);
    return put(tmp, name);
  }

  /**
   * Bytes kept only while a record names them (a search checkpoint: while the job book's history
   * does), marked as such before they are written. The mark goes with the blob ({@link #delete}),
   * so a node that stops between keeping one and its record, or between the record that supersedes
   * it and its deletion, leaves a marked blob that {@link #sweepTransient} finds.
   */
  public Blob putTransient(byte[] bytes, String name) throws IOException {
    String sha = BlobRoute.sha256(bytes);
    Files.write(marks.resolve(sha), new byte[0]);
    Path tmp = temporary();
    Files.write(tmp, bytes);
    return put(tmp, sha, name);
  }

  /** Marks a kept blob transient: deleted by the next {@link #sweepTransient} unless a record names it then. */
  public void markTransient(Blob blob) throws IOException {
    Files.write(marks.resolve(path(blob).getFileName()), new byte[0]);
  }

  /**
   * Deletes every transient blob that {@code named} does not hold, with its mark.
   *
   * @return the SHA-256s of the blobs deleted
   */
  public List<String> sweepTransient(Set<String> named) throws IOException {
    List<String> deleted = new ArrayList<>();
    try (var all = Files.list(marks)) {
      for (Path mark : (Iterable<Path>) all::iterator) {
        String sha = mark.getFileName().toString();
        if (!named.contains(sha)) {
          if (SHA256.matcher(sha).matches() && Files.deleteIfExists(dir.resolve(sha))) {
            deleted.add(sha);
          }
          Files.deleteIfExists(mark);
        }
      }
    }
    return deleted;
  }

  /**
   * Copies a file (a job's output) into the store; the blob also goes to {@code created} when the
   * store did not hold its bytes before.
   */
  public Blob copy(Path file, String name, List<Blob> created) throws IOException {
    Path tmp = temporary();
    Files.copy(file, tmp, StandardCopyOption.REPLACE_EXISTING);
    String sha = BlobRoute.sha256(tmp);
    Blob b = Blob.newBuilder().setSha256(sha).setBytes(Files.size(tmp)).setName(name).build();
    if (moveIn(tmp, sha)) {
      created.add(b);
    }
    return b;
  }

  /**
   * A blob that another node serves ({@code GET <baseUrl>/api/v1/blobs/<sha256>}, the route every
   * node has), into this store unless it is here already; checked against its SHA-256 before it
   * takes its name.
   *
   * @return true when it was fetched, false when this store had it
   * @throws IOException when it cannot be fetched, or arrives with other bytes
   */
  public boolean fetch(String baseUrl, Blob blob, String token) throws IOException {
    if (find(blob.getSha256()) != null) {
      return false;
    }
    Path tmp = temporary();
    try {
      BlobRoute.get(baseUrl, blob.getSha256(), blob.getName(), token, Duration.ofMinutes(10),
          HttpResponse.BodyHandlers.ofFile(tmp), BlobRoute::sha256);
      put(tmp, blob.getSha256(), blob.getName());
      return true;
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /**
   * A blob's bytes, checked against its SHA-256.
   *
   * @throws IOException when it is missing or damaged
   */
  public byte[] read(Blob blob) throws IOException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(path(blob));
    } catch (java.nio.file.NoSuchFileException e) {
      throw new IOException("blob " + blob.getSha256() + " (" + blob.getName() + ") is missing", e);
    }
    String sha = BlobRoute.sha256(bytes);
    if (!sha.equals(blob.getSha256())) {
      throw new IOException("blob " + blob.getSha256() + " (" + blob.getName() + ") is damaged: its SHA-256 is " + sha);
    }
    return bytes;
  }

  /** Removes a blob nothing refers to any more (a superseded checkpoint), and its transient mark; absent is fine. */
  public void delete(Blob blob) throws IOException {
    Files.deleteIfExists(path(blob));
    Files.deleteIfExists(marks.resolve(blob.getSha256()));
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

  /**
   * Temporary files left by a crash mid-upload. Only those untouched for an hour: in a store that
   * several nodes share, a younger one may be another node's upload in progress.
   */
  public void clearIncoming() throws IOException {
    java.nio.file.attribute.FileTime before = java.nio.file.attribute.FileTime.from(
        java.time.Instant.now().minus(ABANDONED));
    try (var files = Files.list(incoming)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        try {
          if (Files.getLastModifiedTime(p).compareTo(before) < 0) {
            Files.deleteIfExists(p);
          }
        } catch (java.nio.file.NoSuchFileException gone) {
          // another node finished or removed it meanwhile
        }
      }
    }
  }
}
