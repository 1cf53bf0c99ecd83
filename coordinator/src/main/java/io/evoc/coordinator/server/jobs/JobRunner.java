package io.evoc.coordinator.server.jobs;

import io.evoc.coordinator.cli.CompressCommand;
import io.evoc.coordinator.server.BlobStore;
import io.evoc.protocol.container.ContainerFile;
import io.evoc.protocol.container.ModelPacking;
import io.evoc.protocol.jobs.Blob;
import io.evoc.protocol.jobs.JobEvent;
import io.evoc.protocol.jobs.JobSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Runs one job: the job's inputs linked into a fresh work directory under their upload names, the
 * settings turned into the flags of {@code evoc compress}, and the very same command run, so that
 * the server's artifact is byte for byte what the command line writes. Its messages go to the
 * work directory's {@code log.txt}; its outputs go into the blob store.
 */
public final class JobRunner {
  /** Flags the server sets itself: inputs come as uploads, outputs go to the job. */
  static final Set<String> RESERVED = Set.of("model", "calib", "test", "out", "report", "device", "help", "version");

  private JobRunner() {}

  /** The arguments of {@code evoc compress} for these settings, inputs in {@code work}. */
  public static List<String> arguments(JobSpec spec, Path work) {
    List<String> args = new ArrayList<>(List.of("--model", work.resolve(spec.getModel().getName()).toString(),
        "--calib", work.resolve(spec.getCalib().getName()).toString()));
    if (spec.hasTest()) {
      args.addAll(List.of("--test", work.resolve(spec.getTest().getName()).toString()));
    }
    for (Map.Entry<String, String> e : new TreeMap<>(spec.getSettingsMap()).entrySet()) {
      if (RESERVED.contains(e.getKey())) {
        throw new IllegalArgumentException("'" + e.getKey() + "' is set by the server (upload the file as a part, or"
            + " leave it out)");
      }
      args.add("--" + e.getKey());
      args.add(e.getValue());
    }
    args.addAll(List.of("--out", work.resolve("artifact.evoc").toString(), "--report",
        work.resolve("report.json").toString()));
    return args;
  }

  static JobEvent.Succeeded run(String id, JobSpec spec, BlobStore blobs, Path work, CompressCommand.Listener listener)
      throws IOException {
    deleteTree(work);
    Files.createDirectories(work);
    for (Blob b : List.of(spec.getModel(), spec.getCalib(), spec.getCalibLabels(), spec.getTest(),
        spec.getTestLabels())) {
      if (!b.getSha256().isEmpty()) {
        Files.createSymbolicLink(work.resolve(b.getName()), blobs.path(b));
      }
    }
    CompressCommand command = CompressCommand.parse(arguments(spec, work));
    try (PrintWriter log = new PrintWriter(Files.newBufferedWriter(work.resolve("log.txt")), true)) {
      command.run(log, log, listener);
    }
    Path artifact = work.resolve("artifact.evoc");
    Path decompressed = work.resolve("model.onnx");
    ModelPacking.rebuild(ContainerFile.read(artifact), artifact.toString()).write(decompressed);
    return JobEvent.Succeeded.newBuilder().setArtifact(blobs.copy(artifact, id + ".evoc"))
        .setReport(blobs.copy(work.resolve("report.json"), id + ".json"))
        .setDecompressed(blobs.copy(decompressed, id + ".onnx")).build();
  }

  public static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
