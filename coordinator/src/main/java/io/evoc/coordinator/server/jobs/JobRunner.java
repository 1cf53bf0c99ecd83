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
import java.util.stream.Stream;

/**
 * Runs one job's halves: the job's inputs linked into a fresh work directory under their upload
 * names, the settings turned into the flags of {@code evoc compress}, and the very same command
 * run, its search on the coordinator, the rest on a finalizer that resumes the search from its
 * last checkpoint, so that the server's artifact is byte for byte what the command line writes.
 * Messages go to the work directory's {@code log.txt}; the outputs go into the blob store.
 */
public final class JobRunner {
  /** A setting's key is a long flag's name; anything else (an "=" above all) could smuggle in another. */
  private static final java.util.regex.Pattern FLAG_NAME = java.util.regex.Pattern.compile("[a-z][a-z0-9-]*");
  /** Flags the server sets itself: inputs come as uploads, outputs go to the job. */
  static final Set<String> RESERVED = Set.of("model", "calib", "test", "out", "report", "device", "help", "version");

  private static final String ARTIFACT = "artifact.evoc";
  private static final String REPORT = "report.json";
  private static final String DECOMPRESSED = "decompressed.onnx";

  private JobRunner() {}

  /** The arguments of {@code evoc compress} for these settings, inputs in {@code work}. */
  public static List<String> arguments(JobSpec spec, Path work) {
    List<String> args = new ArrayList<>(List.of("--model", work.resolve(spec.getModel().getName()).toString(),
        "--calib", work.resolve(spec.getCalib().getName()).toString()));
    if (spec.hasTest()) {
      args.addAll(List.of("--test", work.resolve(spec.getTest().getName()).toString()));
    }
    for (Map.Entry<String, String> e : new TreeMap<>(spec.getSettingsMap()).entrySet()) {
      if (!FLAG_NAME.matcher(e.getKey()).matches()) {
        throw new IllegalArgumentException("'" + e.getKey() + "' is not a flag name (lower-case letters, digits and"
            + " dashes, as in \"calib-limit\")");
      }
      if (RESERVED.contains(e.getKey())) {
        throw new IllegalArgumentException("'" + e.getKey() + "' is set by the server (upload the file as a part, or"
            + " leave it out)");
      }
      // One argument, so that no value can pass for a flag of its own.
      args.add("--" + e.getKey() + "=" + e.getValue());
    }
    args.addAll(List.of("--out", work.resolve(ARTIFACT).toString(), "--report", work.resolve(REPORT).toString()));
    return args;
  }

  /**
   * The search half, on the coordinator: the command's search, its checkpoints (the last one
   * included) told to the listener. Nothing when the job's method sparsifies nothing.
   */
  static void sparsify(JobSpec spec, BlobStore blobs, Path work, CompressCommand.Listener listener)
      throws IOException {
    CompressCommand command = prepare(spec, blobs, work);
    try (PrintWriter log = log(work)) {
      command.sparsify(log, listener);
    }
  }

  /**
   * The whole command, its search resumed (by the listener) from the search half's last
   * checkpoint, so done at once: a finalizer's half. Its outputs stay in the work directory
   * ({@link #keepOutputs}).
   */
  public static void finalizeJob(JobSpec spec, BlobStore blobs, Path work, CompressCommand.Listener listener)
      throws IOException {
    CompressCommand command = prepare(spec, blobs, work);
    try (PrintWriter log = log(work)) {
      command.run(log, log, listener);
    }
    Path artifact = work.resolve(ARTIFACT);
    ModelPacking.rebuild(ContainerFile.read(artifact), artifact.toString()).write(work.resolve(DECOMPRESSED));
  }

  /** The files a job was submitted with: model and data, the optional ones when given. */
  public static List<Blob> inputs(JobSpec spec) {
    return Stream.of(spec.getModel(), spec.getCalib(), spec.getCalibLabels(), spec.getTest(), spec.getTestLabels())
        .filter(b -> !b.getSha256().isEmpty()).toList();
  }

  /** The files a job's finalization made. */
  public static List<Blob> outputs(JobEvent.Succeeded s) {
    return List.of(s.getArtifact(), s.getReport(), s.getDecompressed());
  }

  /**
   * A finalized job's outputs into the blob store. Those whose bytes the store did not hold before
   * go to {@code created}: what may be deleted again if the job is cancelled after all (the others
   * may be another job's outputs, in a store named by content).
   */
  public static JobEvent.Succeeded keepOutputs(String id, BlobStore blobs, Path work, List<Blob> created)
      throws IOException {
    JobEvent.Succeeded kept = JobEvent.Succeeded.newBuilder()
        .setArtifact(blobs.copy(work.resolve(ARTIFACT), id + ".evoc", created))
        .setReport(blobs.copy(work.resolve(REPORT), id + ".json", created))
        .setDecompressed(blobs.copy(work.resolve(DECOMPRESSED), id + ".onnx", created)).build();
    for (String file : List.of(ARTIFACT, REPORT, DECOMPRESSED)) { // the store has them now: the log stays
      Files.deleteIfExists(work.resolve(file));
    }
    return kept;
  }

  /** A fresh work directory with the job's inputs linked in under their upload names, and the command for it. */
  private static CompressCommand prepare(JobSpec spec, BlobStore blobs, Path work) throws IOException {
    deleteTree(work);
    Files.createDirectories(work);
    for (Blob b : inputs(spec)) {
      Files.createSymbolicLink(work.resolve(b.getName()), blobs.path(b));
    }
    return CompressCommand.parse(arguments(spec, work));
  }

  private static PrintWriter log(Path work) throws IOException {
    return new PrintWriter(Files.newBufferedWriter(work.resolve("log.txt")), true);
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
