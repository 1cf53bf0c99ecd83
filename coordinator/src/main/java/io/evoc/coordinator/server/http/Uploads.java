package io.evoc.coordinator.server.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.evoc.coordinator.cli.CompressCommand;
import io.evoc.coordinator.server.BlobStore;
import io.evoc.coordinator.server.jobs.JobRunner;
import io.evoc.protocol.jobs.Blob;
import io.evoc.protocol.jobs.JobSpec;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.http.javadsl.model.Multipart;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.FileIO;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * A job upload: the multipart form's parts streamed to temporary files, then checked the way the
 * job will use them (settings as {@code evoc compress} parses them, the model compiled for the
 * executor, a few samples of each data set fitted to the model's input) before anything is kept.
 * What fails is answered 400 with a message naming the part; nothing of it stays on disk.
 */
final class Uploads {
  static final Set<String> PARTS = Set.of("model", "calib", "calib_labels", "test", "test_labels", "settings");
  /** Samples of each data set loaded to check it fits the model. */
  private static final int CHECK_SAMPLES = 4;
  private static final long MAX_SETTINGS_BYTES = 64 * 1024;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final BlobStore blobs;
  private final Materializer materializer;
  private final Executor blocking;
  /** Largest file part (evoc.limits.upload-bytes). */
  private final long partBytes;

  Uploads(BlobStore blobs, Materializer materializer, Executor blocking, long partBytes) {
    this.blobs = blobs;
    this.materializer = materializer;
    this.blocking = blocking;
    this.partBytes = partBytes;
  }

  /**
   * The form's parts on disk, by part name. A refusal found while the form streams in is answered only
   * once the rest of the request is read and dropped (within Pekko's evoc.limits.request-bytes): a
   * response sent while the client is still writing is often lost to the connection's reset, and the
   * client sees the connection close instead of the 413 naming its part.
   */
  CompletionStage<JobSpec> receive(Multipart.FormData form) {
    Map<String, Path> files = new HashMap<>();
    BadRequest[] refused = {null};
    return form.getParts().mapAsync(1, part -> {
      String name = part.getName();
      if (refused[0] == null && (!PARTS.contains(name) || files.containsKey(name))) {
        refused[0] = new BadRequest(400, files.containsKey(name) ? "part '" + name + "' given twice"
            : "unknown part '" + name + "'; expected " + String.join(", ", new java.util.TreeSet<>(PARTS)));
      }
      if (refused[0] != null) {
        return part.getEntity().discardBytes(materializer).completionStage().thenApply(done -> name);
      }
      Path tmp = blobs.temporary();
      files.put(name, tmp);
      // Counted as it streams in: an oversized part is refused without being written out whole.
      boolean settings = name.equals("settings");
      long limit = settings ? MAX_SETTINGS_BYTES : partBytes;
      long[] received = {0};
      return part.getEntity().getDataBytes().filter(bytes -> {
        received[0] += bytes.size();
        if (received[0] > limit && refused[0] == null) {
          refused[0] = new BadRequest(413, "part '" + name + "': larger than " + limit + " bytes"
              + (settings ? "" : " (evoc.limits.upload-bytes)"));
        }
        return refused[0] == null;
      }).runWith(FileIO.toPath(tmp), materializer).thenApply(io -> name);
    }).runWith(Sink.ignore(), materializer)
        .thenApplyAsync(done -> {
          if (refused[0] != null) {
            throw refused[0];
          }
          return check(files);
        }, blocking)
        .whenComplete((spec, failure) -> {
          if (failure != null) {
            files.values().forEach(Uploads::deleteQuietly);
          }
        });
  }

  /** Checks the parts in place, then moves them into the blob store. */
  private JobSpec check(Map<String, Path> files) {
    for (String required : new String[] {"model", "calib"}) {
      if (!files.containsKey(required)) {
        throw new BadRequest(400, "part '" + required + "' is missing");
      }
    }
    for (String labels : new String[] {"calib", "test"}) {
      if (files.containsKey(labels + "_labels") && !files.containsKey(labels)) {
        throw new BadRequest(400, "part '" + labels + "_labels' without '" + labels + "'");
      }
    }
    Map<String, String> settings = files.containsKey("settings") ? settings(files.get("settings")) : Map.of();
    Map<String, String> names = new HashMap<>();
    names.put("model", "model.onnx");
    for (String data : new String[] {"calib", "test"}) {
      if (files.containsKey(data)) {
        names.putAll(dataNames(data, files.get(data), files.get(data + "_labels")));
      }
    }
    // Checked under the names the job will use, in a directory of its own.
    Path check;
    try {
      check = Files.createTempDirectory(files.get("model").getParent(), "check-");
      for (Map.Entry<String, String> n : names.entrySet()) {
        Files.createSymbolicLink(check.resolve(n.getValue()), files.get(n.getKey()));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot stage the upload", e);
    }
    try {
      JobSpec.Builder spec = JobSpec.newBuilder().putAllSettings(settings);
      placeholders(spec, names);
      CompressCommand command;
      try {
        command = CompressCommand.parse(JobRunner.arguments(spec.build(), check));
      } catch (IllegalArgumentException e) {
        throw new BadRequest(400, "settings: " + e.getMessage());
      }
      try {
        command.checkInputs(CHECK_SAMPLES);
      } catch (RuntimeException e) {
        if (!io.evoc.coordinator.cli.EvocCommand.isUserError(e)) {
          throw e;
        }
        String message = e.getMessage().replace(check.toString() + "/", "");
        for (Map.Entry<String, String> n : names.entrySet()) {
          message = message.replace(n.getValue(), "part '" + n.getKey() + "'");
        }
        throw new BadRequest(400, message);
      }
      for (Map.Entry<String, String> n : names.entrySet()) {
        Blob b = blobs.put(files.get(n.getKey()), n.getValue());
        switch (n.getKey()) {
          case "model" -> spec.setModel(b);
          case "calib" -> spec.setCalib(b);
          case "calib_labels" -> spec.setCalibLabels(b);
          case "test" -> spec.setTest(b);
          default -> spec.setTestLabels(b);
        }
      }
      return spec.build();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot keep the upload", e);
    } finally {
      try {
        JobRunner.deleteTree(check);
      } catch (IOException e) {
        // a leftover check directory is harmless
      }
    }
  }

  /** Names only, so that the arguments can be built before the blobs exist. */
  private static void placeholders(JobSpec.Builder spec, Map<String, String> names) {
    spec.setModel(Blob.newBuilder().setName(names.get("model")));
    spec.setCalib(Blob.newBuilder().setName(names.get("calib")));
    if (names.containsKey("test")) {
      spec.setTest(Blob.newBuilder().setName(names.get("test")));
    }
  }

  /**
   * The file names a data part is used under, from its first bytes: .npy, .npz, or IDX images
   * (raw or gzipped) whose labels part, when given, becomes the sibling the IDX reader looks for.
   */
  private static Map<String, String> dataNames(String part, Path data, Path labels) {
    Map<String, String> names = new HashMap<>();
    String kind = kind(data);
    switch (kind) {
      case "npy", "npz" -> {
        if (labels != null) {
          throw new BadRequest(400, "part '" + part + "_labels': labels come inside the ." + kind + " file");
        }
        names.put(part, part + "." + kind);
      }
      case "idx", "idx.gz" -> {
        String gz = kind.endsWith(".gz") ? ".gz" : "";
        names.put(part, part + "-images-idx3-ubyte" + gz);
        if (labels != null) {
          String labelsGz = kind(labels).endsWith(".gz") ? ".gz" : "";
          names.put(part + "_labels", part + "-labels-idx1-ubyte" + labelsGz);
        }
      }
      default -> throw new BadRequest(400, "part '" + part + "': not IDX (raw or gzipped), .npy or .npz data");
    }
    return names;
  }

  private static String kind(Path file) {
    byte[] head = new byte[6];
    int n;
    try (InputStream in = Files.newInputStream(file)) {
      n = in.readNBytes(head, 0, head.length);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    if (n >= 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b) {
      return "idx.gz";
    }
    if (n >= 6 && (head[0] & 0xff) == 0x93 && new String(head, 1, 5, java.nio.charset.StandardCharsets.US_ASCII)
        .equals("NUMPY")) {
      return "npy";
    }
    if (n >= 2 && head[0] == 'P' && head[1] == 'K') {
      return "npz";
    }
    if (n >= 4 && head[0] == 0 && head[1] == 0 && head[2] >= 0x08 && head[2] <= 0x0e) {
      return "idx";
    }
    return "unknown";
  }

  /** The settings part: a JSON object of long flag names to strings, numbers or booleans. */
  private static Map<String, String> settings(Path file) {
    JsonNode root;
    try {
      root = JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new BadRequest(400, "part 'settings': not JSON (" + e.getMessage().split("\n")[0] + ")");
    }
    if (root == null || !root.isObject()) {
      throw new BadRequest(400, "part 'settings': expected a JSON object of flag names to values");
    }
    Map<String, String> out = new HashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode v = e.getValue();
      if (!v.isValueNode() || v.isNull()) {
        throw new BadRequest(400, "settings: '" + e.getKey() + "' must be a string, number or boolean");
      }
      out.put(e.getKey(), v.asText());
    }
    return out;
  }

  private static void deleteQuietly(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      // a leftover temporary file is cleared at the next start
    }
  }
}
