package io.evoc.coordinator.cli;

import io.evoc.evaluator.engine.Engines;
import io.evoc.evaluator.engine.InferenceEngine;
import io.evoc.evaluator.eval.Evaluation;
import io.evoc.protocol.model.OnnxModel;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "eval", mixinStandardHelpOptions = true,
    description = "Accuracy of a classifier on labelled data (argmax of the first output), as one JSON object.")
final class EvalCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, paramLabel = "FILE.onnx")
  Path model;

  @Option(names = "--data", required = true, paramLabel = "DATA",
      description = "An IDX directory with :train or :test (default :test), or a .npy/.npz file.")
  String data;

  @Option(names = {"--limit", "--calib-limit"}, defaultValue = "0", paramLabel = "N", description = "Use the first N samples (default: all).")
  int limit;

  @Option(names = "--engine", defaultValue = "djl", paramLabel = "djl|ort", description = "djl: evoc's executor (default); ort: ONNX Runtime.")
  String engine;

  @Option(names = "--device", defaultValue = "cpu", description = "Executor device: cpu, gpu or gpu:N (default ${DEFAULT-VALUE}).")
  String device;

  @Option(names = "--batch-size", defaultValue = "1000", description = "Samples per forward pass when the model's batch is symbolic (default ${DEFAULT-VALUE}).")
  int batchSize;

  @Mixin PreprocessingOptions preprocessing;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (limit < 0 || batchSize < 1) {
      throw new IllegalArgumentException("--limit must be >= 0 and --batch-size >= 1");
    }
    OnnxModel m = OnnxModel.read(model);
    PreparedData prepared = PreparedData.load(m, data, limit, preprocessing.parse());
    if (!prepared.data().hasLabels()) {
      throw new IllegalArgumentException(data + ": has no labels; eval needs labelled data");
    }
    Evaluation result;
    String engineName;
    try (InferenceEngine e = Engines.open(m, engine, device, null)) {
      engineName = e.name();
      result = Evaluation.run(e, prepared.input(), prepared.data(), batchSize);
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("model", model.toString());
    out.put("data", data);
    out.put("engine", engineName);
    out.put("device", engine.equals("djl") ? device : "cpu");
    out.put("samples", result.samples());
    out.put("correct", result.correct());
    out.put("accuracy", result.accuracy());
    out.put("milliseconds", result.millis());
    out.put("predictions_sha256", digest(result.predictions()));
    spec.commandLine().getOut().println(Json.line(out));
    spec.commandLine().getOut().flush();
    return 0;
  }

  /** Two runs agree on every sample exactly when these digests are equal. */
  static String digest(int[] predictions) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      ByteBuffer b = ByteBuffer.allocate(predictions.length * 4);
      b.asIntBuffer().put(predictions);
      return HexFormat.of().formatHex(sha.digest(b.array()));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
