package io.evoc.coordinator.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.evoc.coordinator.cli.CliAccess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A job on the example MLP and Fashion-MNIST's training images, as the server tests submit it: its
 * settings as JSON, its upload parts, and what the command line writes for the same settings.
 */
final class MlpJob {
  static final Path MLP = Path.of(System.getProperty("evoc.repo.root", "..")).resolve("examples/models/fashion-mlp.onnx");
  static final Path FASHION = Path.of("/usr/share/datasets/fashion-mnist");

  private final String[][] settings;

  /** @param settings long flag names of `evoc compress` and their values */
  MlpJob(String[]... settings) {
    this.settings = settings;
  }

  String json() {
    StringBuilder json = new StringBuilder("{");
    for (String[] s : settings) {
      json.append(json.length() > 1 ? "," : "").append('"').append(s[0]).append("\":\"").append(s[1]).append('"');
    }
    return json.append('}').toString();
  }

  Map<String, Object> parts() {
    return Api.parts("model", MLP, "calib", FASHION.resolve("train-images-idx3-ubyte.gz"),
        "calib_labels", FASHION.resolve("train-labels-idx1-ubyte.gz"), "settings", json());
  }

  /** Runs `evoc compress` in this JVM; its artifact (and report, as cli.json, in {@code dir}). */
  byte[] commandLineArtifact(Path dir) throws IOException {
    List<String> cli = new ArrayList<>(List.of("compress", "--model", MLP.toString(), "--calib", FASHION + ":train",
        "--out", dir.resolve("cli.evoc").toString(), "--report", dir.resolve("cli.json").toString()));
    for (String[] s : settings) {
      cli.addAll(List.of("--" + s[0], s[1]));
    }
    assertThat(CliAccess.run(cli.toArray(String[]::new))).isZero();
    return Files.readAllBytes(dir.resolve("cli.evoc"));
  }
}
