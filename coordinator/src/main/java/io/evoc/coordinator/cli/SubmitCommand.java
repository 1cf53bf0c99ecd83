package io.evoc.coordinator.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.evoc.coordinator.client.ServerClient;
import io.evoc.coordinator.server.jobs.JobRunner;
import io.evoc.evaluator.data.DataLoader;
import io.evoc.protocol.jobs.Blob;
import io.evoc.protocol.jobs.JobSpec;
import io.evoc.protocol.model.OnnxModel;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "submit", mixinStandardHelpOptions = true,
    description = "Uploads a compression job to an evoc server; with --follow, shows its progress live and "
        + "downloads the artifact when it succeeds.")
final class SubmitCommand implements Callable<Integer> {
  @Mixin ServerOptions serverOptions;

  @Option(names = "--model", required = true, paramLabel = "FILE.onnx")
  Path model;

  @Option(names = "--calib", required = true, paramLabel = "DATA",
      description = "An IDX directory[:train|:test], an IDX images file (its labels beside it), .npy or .npz.")
  String calib;

  @Option(names = "--test", paramLabel = "DATA", description = "Held-out data, as --calib.")
  String test;

  @Option(names = "--set", paramLabel = "FLAG=VALUE",
      description = "A setting of `evoc compress` by its long flag name, repeatable: --set sparsity=0.9 --set seed=7.")
  Map<String, String> settings = new LinkedHashMap<>();

  @Option(names = "--follow", description = "Show the job's progress until it ends, then download the artifact.")
  boolean follow;

  @Option(names = "--out", paramLabel = "M.evoc", description = "Where --follow saves the artifact (default: ID.evoc).")
  Path out;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    PrintWriter stdout = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    // What the server would refuse at once, refused here before anything is uploaded: the settings
    // parsed as the server parses them, and the model read.
    Blob named = Blob.newBuilder().setName("upload").build();
    CompressCommand.parse(JobRunner.arguments(JobSpec.newBuilder().setModel(named).setCalib(named)
        .putAllSettings(settings).build(), Path.of("")));
    OnnxModel.read(model);
    ServerClient client = serverOptions.client();
    Map<String, Object> parts = new LinkedHashMap<>();
    parts.put("model", model);
    addData(parts, "calib", calib);
    if (test != null) {
      addData(parts, "test", test);
    }
    Map<String, Path> uploaded = new LinkedHashMap<>();
    parts.forEach((part, file) -> uploaded.put("uploaded " + part, (Path) file));
    if (follow && out != null) { // the default, ID.evoc, is known only once the server has given the id
      OutputFiles.check(OutputFiles.named("--out", out), uploaded);
    }
    parts.put("settings", new ObjectMapper().writeValueAsString(settings));
    ServerClient.Response r = client.submit(parts);
    if (r.status() != 202) {
      throw new IllegalArgumentException(serverOptions.url + " refused the job (" + r.status() + "): " + r.error());
    }
    String id = (String) r.json().get("id");
    stdout.println(id);
    stdout.flush();
    if (!follow) {
      return 0;
    }
    Path target = out != null ? out : JobFollower.target(null, id, ".evoc", uploaded); // --out: checked above
    return JobFollower.download(client, id, JobFollower.follow(client, id, JobFollower.goal(settings)), target, err);
  }

  /** A data spec's files as parts: the data, and its IDX labels when there are any. */
  static void addData(Map<String, Object> parts, String name, String spec) {
    Path[] files = DataLoader.files(spec);
    parts.put(name, files[0]);
    if (files[1] != null) {
      parts.put(name + "_labels", files[1]);
    }
  }
}
