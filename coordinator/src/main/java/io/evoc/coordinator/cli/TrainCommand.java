package io.evoc.coordinator.cli;

import io.evoc.coordinator.search.Ranges;
import io.evoc.evaluator.data.DataLoader;
import io.evoc.evaluator.data.DataSet;
import io.evoc.evaluator.data.Preprocessing;
import io.evoc.evaluator.engine.Engines;
import io.evoc.evaluator.engine.InferenceEngine;
import io.evoc.evaluator.eval.Evaluation;
import io.evoc.evaluator.train.Architecture;
import io.evoc.evaluator.train.OnnxExport;
import io.evoc.evaluator.train.TrainSettings;
import io.evoc.evaluator.train.TrainedNetwork;
import io.evoc.evaluator.train.Trainer;
import io.evoc.protocol.model.OnnxModel;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "train", mixinStandardHelpOptions = true,
    description = "Trains an example teacher with DJL (PyTorch, CPU), writes it as ONNX, and reports its test accuracy measured by ONNX Runtime.")
final class TrainCommand implements Callable<Integer> {
  /** Where Debian's dataset-fashion-mnist puts the IDX files. */
  static final String FASHION_MNIST = "/usr/share/datasets/fashion-mnist";

  @Option(names = "--dataset", defaultValue = "fashion-mnist", paramLabel = "fashion-mnist|DIR",
      description = "fashion-mnist (Debian's dataset-fashion-mnist) or an IDX directory with both splits.")
  String dataset;

  @Option(names = "--arch", required = true, paramLabel = "mlp|lenet5")
  String arch;

  @Option(names = "--epochs", paramLabel = "N", description = "Default: what the example model used.")
  Integer epochs;

  @Option(names = "--seed", defaultValue = "" + TrainSettings.DEFAULT_SEED, paramLabel = "S")
  long seed;

  @Option(names = "--limit", defaultValue = "0", paramLabel = "N", description = "Train on the first N training images (default 0: all).")
  int limit;

  @Option(names = "--hold-out", defaultValue = "0", paramLabel = "N",
      description = "Leave the first N training images out, so that a compression run calibrating on the training split judges its budget on images the teacher has not seen (default: 0).")
  int holdOut;

  @Option(names = "--out", required = true, paramLabel = "FILE.onnx")
  Path out;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Architecture architecture = Architecture.fromName(arch);
    TrainSettings settings = TrainSettings.defaults(architecture).withSeed(seed);
    if (epochs != null) {
      settings = settings.withEpochs(epochs);
    }
    String dir = dataset.equals("fashion-mnist") ? FASHION_MNIST : dataset;
    if (holdOut < 0) {
      throw new IllegalArgumentException("--hold-out must be 0 or more, got " + holdOut);
    }
    Ranges.limit("--limit", limit);
    OutputFiles.check(OutputFiles.named("--out", out), Map.of());
    DataSet train = DataLoader.load(dir + ":train", limit).skip(holdOut);
    if (train.size() == 0) {
      throw new IllegalArgumentException("--hold-out " + holdOut + " leaves no training images");
    }
    PrintWriter err = spec.commandLine().getErr();
    long start = System.nanoTime();
    TrainedNetwork net = Trainer.train(train, settings, line -> {
      err.println(line);
      err.flush();
    });
    double seconds = (System.nanoTime() - start) / 1e9;
    OnnxModel model = OnnxExport.toModel(net, out.toString());
    try {
      model.write(out);
    } catch (IOException e) {
      throw new UncheckedIOException(out + ": cannot write (" + e.getMessage() + ")", e);
    }
    // The figure that counts is the written file's, run by the independent runtime.
    OnnxModel written = OnnxModel.read(out);
    PreparedData test = PreparedData.load(written, dir + ":test", 0, Preprocessing.DEFAULT);
    Evaluation eval;
    try (InferenceEngine ort = Engines.open(written, "ort", "cpu", null)) {
      eval = Evaluation.run(ort, test.input(), test.data(), 1000);
    }
    Map<String, Object> result = new LinkedHashMap<>();
    result.put("model", out.toString());
    result.put("arch", architecture.cliName());
    result.put("epochs", settings.epochs());
    result.put("seed", settings.seed());
    result.put("batch_size", settings.batchSize());
    result.put("learning_rate", settings.learningRate());
    result.put("held_out", holdOut);
    result.put("train_samples", train.size());
    result.put("train_seconds", Math.round(seconds * 10) / 10.0);
    result.put("test_accuracy_ort", eval.accuracy());
    spec.commandLine().getOut().println(Json.line(result));
    spec.commandLine().getOut().flush();
    return 0;
  }
}
