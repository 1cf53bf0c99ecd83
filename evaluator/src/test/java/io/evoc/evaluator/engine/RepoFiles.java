package io.evoc.evaluator.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Files the repository ships, found from the build's root. */
final class RepoFiles {
  private RepoFiles() {}

  static Path root() {
    String root = System.getProperty("evoc.repo.root");
    return root != null ? Path.of(root) : Path.of("..").toAbsolutePath().normalize();
  }

  /** Every ONNX model under examples/, except the fixtures made to be refused. */
  static List<Path> runnableModels() throws IOException {
    try (Stream<Path> files = Files.walk(root().resolve("examples"))) {
      return files.filter(p -> p.toString().endsWith(".onnx"))
          .filter(p -> !p.getFileName().toString().startsWith("refused-"))
          .sorted()
          .toList();
    }
  }
}
