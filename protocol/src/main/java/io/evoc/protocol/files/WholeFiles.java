package io.evoc.protocol.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;

/** Files written whole or not at all: every model, container and report evoc writes. */
public final class WholeFiles {
  private WholeFiles() {}

  /**
   * Writes beside the target, forces it to the disk and renames, so a crash or a power loss never
   * leaves half a file under the final name (nor an earlier file at it destroyed). A new file is an
   * ordinary one others may read; a replaced one keeps its permissions.
   */
  public static void write(Path file, byte[] bytes) throws IOException {
    Path parent = file.toAbsolutePath().getParent();
    if (!Files.isDirectory(parent)) { // createDirectories refuses a link to a directory on older JDK 17s
      Files.createDirectories(parent);
    }
    Path tmp = Files.createTempFile(parent, ".evoc-", ".tmp");
    try {
      try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
          out.write(b);
        }
        out.force(true);
      }
      if (tmp.getFileSystem().supportedFileAttributeViews().contains("posix")) {
        Files.setPosixFilePermissions(tmp, Files.isRegularFile(file) ? Files.getPosixFilePermissions(file)
            : PosixFilePermissions.fromString("rw-r--r--")); // not createTempFile's rw-------
      }
      try {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
  }
}
