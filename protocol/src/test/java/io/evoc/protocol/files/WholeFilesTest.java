package io.evoc.protocol.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Models, containers and reports: written whole, readable by others, nothing left beside them. */
class WholeFilesTest {
  @Test
  void writesAnOrdinaryFileWholeAndLeavesNothingBeside(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("new/sub/m.evoc");
    WholeFiles.write(file, new byte[] {1, 2, 3});
    WholeFiles.write(file, new byte[] {4, 5});
    assertThat(Files.readAllBytes(file)).containsExactly(4, 5);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-r--r--");
    try (var files = Files.list(file.getParent())) {
      assertThat(files).containsExactly(file);
    }
    // A file made private stays private when it is written again.
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    WholeFiles.write(file, new byte[] {6});
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
  }

  @Test
  void aFailedWriteLeavesTheEarlierFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("r.json");
    Files.writeString(file, "earlier");
    Files.createDirectory(dir.resolve("blocked"));
    // The target is a non-empty directory: the rename fails, the temporary file goes.
    Files.writeString(dir.resolve("blocked/x"), "x");
    assertThatThrownBy(() -> WholeFiles.write(dir.resolve("blocked"), new byte[] {1}))
        .isInstanceOf(java.io.IOException.class);
    assertThat(Files.readString(file)).isEqualTo("earlier");
    try (var files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("r.json", "blocked");
    }
  }
}
