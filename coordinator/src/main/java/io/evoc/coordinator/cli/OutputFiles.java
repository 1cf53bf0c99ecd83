package io.evoc.coordinator.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The files a command is to write, checked before it does any work: a run of many minutes must not
 * end in an unwritable path, nor write over one of its inputs or over its other output. Each
 * refusal is one line naming the flag and the file.
 */
final class OutputFiles {
  private OutputFiles() {}

  /**
   * @param outputs each output's flag and path, in the order the command writes them
   * @param inputs each input's flag and path (null where not given); data specs may carry a split
   * @throws IllegalArgumentException naming the flag and file at fault
   */
  static void check(Map<String, Path> outputs, Map<String, Path> inputs) {
    List<Map.Entry<String, Path>> seen = new ArrayList<>();
    for (Map.Entry<String, Path> out : outputs.entrySet()) {
      Path file = out.getValue().toAbsolutePath().normalize();
      String named = out.getKey() + " " + out.getValue();
      for (Map.Entry<String, Path> in : inputs.entrySet()) {
        if (in.getValue() != null && same(file, in.getValue())) {
          throw new IllegalArgumentException(named + ": that is the " + in.getKey() + "; evoc does not write over"
              + " its inputs");
        }
      }
      for (Map.Entry<String, Path> other : seen) {
        if (same(file, other.getValue())) {
          throw new IllegalArgumentException(named + ": " + other.getKey() + " names the same file");
        }
      }
      seen.add(Map.entry(out.getKey(), file));
      if (Files.isDirectory(file)) {
        throw new IllegalArgumentException(named + ": is a directory");
      }
    }
    // Only once every output passed the checks above: nothing is created for a refused command.
    for (Map.Entry<String, Path> out : outputs.entrySet()) {
      writable(out.getKey() + " " + out.getValue(), out.getValue().toAbsolutePath().normalize().getParent());
    }
  }

  /** Flags and paths in the order given: {@code "--out", path, "--report", path, ...}. */
  static Map<String, Path> named(Object... flagsAndPaths) {
    Map<String, Path> m = new java.util.LinkedHashMap<>();
    for (int i = 0; i < flagsAndPaths.length; i += 2) {
      m.put((String) flagsAndPaths[i], (Path) flagsAndPaths[i + 1]);
    }
    return m;
  }

  private static boolean same(Path a, Path b) {
    Path x = a.toAbsolutePath().normalize();
    Path y = b.toAbsolutePath().normalize();
    if (x.equals(y)) {
      return true;
    }
    try { // links, and paths that differ only in how they reach the file
      return Files.exists(x) && Files.exists(y) && Files.isSameFile(x, y);
    } catch (IOException e) {
      return false;
    }
  }

  /**
   * Proves a file can be made where the output goes, creating nothing that stays: in its directory,
   * or in the nearest one above it that exists (the write creates the rest).
   */
  private static void writable(String named, Path dir) {
    Path existing = dir;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null || !Files.isDirectory(existing)) {
      throw new IllegalArgumentException(named + ": " + existing + " is not a directory");
    }
    Path probe = null;
    try {
      probe = Files.createTempFile(existing, ".evoc-", ".probe");
    } catch (IOException | UnsupportedOperationException e) {
      String why = e instanceof java.nio.file.NoSuchFileException ? "it takes no new files" : reason(e);
      throw new IllegalArgumentException(named + ": cannot write in " + existing + " (" + why + ")", e);
    } finally {
      if (probe != null) {
        try {
          Files.deleteIfExists(probe);
        } catch (IOException ignored) {
          // a probe that cannot be deleted is a hidden empty file: nothing to refuse the run for
        }
      }
    }
  }

  /** An I/O failure's reason without the path it repeats. */
  static String reason(Exception e) {
    if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    if (e instanceof java.nio.file.NoSuchFileException) {
      return "no such file or directory";
    }
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof java.nio.file.FileAlreadyExistsException) {
      return "a file is in the way";
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }
}
