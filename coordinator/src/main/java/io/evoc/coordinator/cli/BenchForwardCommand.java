package io.evoc.coordinator.cli;

import io.evoc.evaluator.engine.Engines;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.engine.InferenceEngine;
import io.evoc.protocol.model.OnnxModel;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Forward passes of the fast executor and of ONNX Runtime on the same batches, in one run: the
 * executor first, closed, then ONNX Runtime. Alternating rounds were tried and dropped: with both
 * engines' thread pools alive, each slowed the other (the executor by up to 30%).
 */
@Command(name = "forward", description = "Forward passes per second: DJL executor vs ONNX Runtime.",
    mixinStandardHelpOptions = true)
final class BenchForwardCommand implements Callable<Integer> {
  private static final double WARM_UP_SECONDS = 2;

  @Option(names = "--model", required = true, paramLabel = "FILE.onnx")
  Path model;

  @Option(names = "--batch", defaultValue = "1000", description = "Samples per pass, for a model with a symbolic batch (default ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--seconds", defaultValue = "10", description = "Timed seconds per engine, after 2 s of warm-up (default ${DEFAULT-VALUE}).")
  double seconds;

  @Option(names = "--device", defaultValue = "cpu", description = "Executor device: cpu, gpu or gpu:N (default ${DEFAULT-VALUE}).")
  String device;

  @Option(names = "--profile", description = "Also print the executor's time per op type (to stderr).")
  boolean profile;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (batch < 1 || seconds <= 0) {
      throw new IllegalArgumentException("--batch and --seconds must be positive");
    }
    OnnxModel m = OnnxModel.read(model);
    Map<String, HostTensor> inputs = io.evoc.evaluator.engine.RandomInputs.of(m, batch, 1);
    long samples = inputs.values().iterator().next().shape()[0];
    PrintWriter err = spec.commandLine().getErr();
    double djlRate;
    String executor;
    Map<String, long[]> ops = null;
    try (InferenceEngine djl = Engines.open(m, "djl", device, null)) {
      executor = djl.name();
      List<String> first = List.of(djl.outputNames().get(0));
      timeFor(djl, inputs, first, WARM_UP_SECONDS);
      if (profile && djl instanceof io.evoc.evaluator.engine.DjlEngine d) {
        ops = d.startProfiling();
      }
      double[] t = timeFor(djl, inputs, first, seconds);
      djlRate = t[0] / t[1];
      if (ops != null) {
        ops.forEach((op, v) -> err.printf("  %-20s %8.3f ms/pass  %6d calls%n", op, v[0] / 1e6 / t[0], v[1]));
      }
    }
    double ortRate;
    try (InferenceEngine ort = Engines.open(m, "ort", "cpu", null)) {
      List<String> first = List.of(ort.outputNames().get(0));
      timeFor(ort, inputs, first, WARM_UP_SECONDS);
      double[] t = timeFor(ort, inputs, first, seconds);
      ortRate = t[0] / t[1];
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("model", model.toString());
    out.put("batch", samples);
    out.put("executor", executor);
    out.put("device", device);
    out.put("djl_passes_per_s", Json.hundredths(djlRate));
    out.put("ort_passes_per_s", Json.hundredths(ortRate));
    out.put("djl_samples_per_s", Json.hundredths(djlRate * samples));
    out.put("ort_samples_per_s", Json.hundredths(ortRate * samples));
    out.put("ort_over_djl_time_ratio", Json.hundredths(ortRate / djlRate));
    out.put("peak_rss_mb", ProcessMemory.peakRssMb());
    err.printf("%s, batch %d: executor %.1f passes/s, ONNX Runtime %.1f passes/s; executor takes %.2fx ORT's time%n",
        model.getFileName(), samples, djlRate, ortRate, ortRate / djlRate);
    err.flush();
    spec.commandLine().getOut().println(Json.line(out));
    spec.commandLine().getOut().flush();
    return 0;
  }

  /** Runs passes for about {@code seconds}; returns {passes, elapsed seconds}. */
  private static double[] timeFor(InferenceEngine e, Map<String, HostTensor> inputs, List<String> outputs, double seconds) {
    long start = System.nanoTime();
    long deadline = start + (long) (seconds * 1e9);
    long passes = 0;
    long now;
    do {
      e.run(inputs, outputs);
      passes++;
      now = System.nanoTime();
    } while (now < deadline);
    return new double[] {passes, (now - start) / 1e9};
  }

}
