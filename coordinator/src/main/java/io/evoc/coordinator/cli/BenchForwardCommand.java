package io.evoc.coordinator.cli;

import io.evoc.evaluator.engine.Engines;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.engine.InferenceEngine;
import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.model.TensorSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Forward passes of the fast executor and of ONNX Runtime on the same batches, in one process,
 * timed in alternating rounds so that both see the same machine.
 */
@Command(name = "forward", description = "Forward passes per second: DJL executor vs ONNX Runtime.",
    mixinStandardHelpOptions = true)
final class BenchForwardCommand implements Callable<Integer> {
  @Option(names = "--model", required = true, paramLabel = "FILE.onnx")
  Path model;

  @Option(names = "--batch", defaultValue = "1000", description = "Samples per pass, for a model with a symbolic batch (default ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--seconds", defaultValue = "10", description = "Timed seconds per engine (default ${DEFAULT-VALUE}).")
  double seconds;

  @Option(names = "--rounds", defaultValue = "5", description = "Alternating rounds the time is split into (default ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--device", defaultValue = "cpu", description = "Executor device: cpu, gpu or gpu:N (default ${DEFAULT-VALUE}).")
  String device;

  @Option(names = "--profile", description = "Also print the executor's time per op type (to stderr).")
  boolean profile;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (batch < 1 || seconds <= 0 || rounds < 1) {
      throw new IllegalArgumentException("--batch, --seconds and --rounds must be positive");
    }
    OnnxModel m = OnnxModel.read(model);
    Map<String, HostTensor> inputs = inputs(m);
    long samples = inputs.values().iterator().next().shape()[0];
    PrintWriter err = spec.commandLine().getErr();
    try (InferenceEngine djl = Engines.open(m, "djl", device, null);
        InferenceEngine ort = Engines.open(m, "ort", "cpu", null)) {
      List<String> first = List.of(djl.outputNames().get(0));
      for (InferenceEngine e : List.of(djl, ort)) {
        timeFor(e, inputs, first, 1.0);
      }
      Map<String, long[]> ops = profile && djl instanceof io.evoc.evaluator.engine.DjlEngine d ? d.startProfiling() : null;
      long[] passes = new long[2];
      double[] elapsed = new double[2];
      for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 2; i++) {
          InferenceEngine e = i == 0 ? djl : ort;
          double[] t = timeFor(e, inputs, first, seconds / rounds);
          passes[i] += (long) t[0];
          elapsed[i] += t[1];
        }
      }
      double djlRate = passes[0] / elapsed[0];
      double ortRate = passes[1] / elapsed[1];
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("model", model.toString());
      out.put("batch", samples);
      out.put("executor", djl.name());
      out.put("device", device);
      out.put("djl_passes_per_s", round(djlRate));
      out.put("ort_passes_per_s", round(ortRate));
      out.put("djl_samples_per_s", round(djlRate * samples));
      out.put("ort_samples_per_s", round(ortRate * samples));
      out.put("ort_over_djl_time_ratio", round(ortRate / djlRate));
      out.put("peak_rss_mb", ProcessMemory.peakRssMb());
      err.printf("%s, batch %d: executor %.1f passes/s, ONNX Runtime %.1f passes/s; executor takes %.2fx ORT's time%n",
          model.getFileName(), samples, djlRate, ortRate, ortRate / djlRate);
      if (ops != null) {
        ops.forEach((op, t) -> err.printf("  %-20s %8.3f ms/pass  %6d calls%n", op, t[0] / 1e6 / passes[0], t[1]));
      }
      err.flush();
      spec.commandLine().getOut().println(Json.line(out));
      spec.commandLine().getOut().flush();
    }
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

  private Map<String, HostTensor> inputs(OnnxModel m) {
    SplittableRandom random = new SplittableRandom(1);
    Map<String, HostTensor> inputs = new LinkedHashMap<>();
    for (TensorSpec s : m.inputs()) {
      long[] dims = s.dims();
      long n = 1;
      for (int i = 0; i < dims.length; i++) {
        if (dims[i] < 0) {
          dims[i] = i == 0 ? batch : 1;
        }
        n *= dims[i];
      }
      float[] data = new float[(int) n];
      for (int i = 0; i < data.length; i++) {
        data[i] = (float) random.nextDouble();
      }
      inputs.put(s.name(), new HostTensor(data, dims));
    }
    return inputs;
  }

  private static double round(double v) {
    return Math.round(v * 100) / 100.0;
  }
}
