package io.evoc.coordinator.cli;

import io.evoc.evaluator.graph.ops.OpRegistry;
import io.evoc.evaluator.scoring.Layer;
import io.evoc.evaluator.scoring.Layers;
import io.evoc.protocol.model.DataTypes;
import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.model.TensorData;
import io.evoc.protocol.model.TensorSpec;
import io.evoc.protocol.onnx.TensorProto;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "inspect-model", mixinStandardHelpOptions = true, description = "Shows a model's weights, ops, and whether the fast executor covers them.")
final class InspectModelCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "FILE.onnx")
  Path model;

  @Option(names = "--json", description = "Print one JSON object instead of a table.")
  boolean json;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    OnnxModel m = OnnxModel.read(model);
    Set<String> missing = OpRegistry.standard().missing(m);
    List<Map<String, Object>> weights = new ArrayList<>();
    Map<String, Layer> layers = new LinkedHashMap<>();
    Layers.of(m).forEach(l -> layers.put(l.weight(), l));
    long parameters = 0;
    for (TensorProto t : m.initializers().values()) {
      long count = TensorData.elementCount(t.getDimsList());
      Map<String, Object> w = new LinkedHashMap<>();
      w.put("name", t.getName());
      w.put("type", DataTypes.name(t.getDataType()));
      w.put("shape", t.getDimsList());
      w.put("parameters", count);
      Layer layer = layers.get(t.getName());
      if (layer != null) { // what sparsify prunes, and the node --layer-sparsity may name it by
        w.put("layer", Map.of("op", layer.opType(), "node", layer.node()));
      }
      weights.add(w);
      if (t.getDataType() == TensorProto.DataType.FLOAT_VALUE) {
        parameters += count;
      }
    }
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("model", model.toString());
    out.put("ir_version", m.irVersion());
    out.put("opset", m.opset());
    out.put("producer", (m.proto().getProducerName() + " " + m.proto().getProducerVersion()).trim());
    out.put("inputs", m.inputs().stream().map(TensorSpec::toString).toList());
    out.put("outputs", m.outputs().stream().map(TensorSpec::toString).toList());
    out.put("ops", m.opTypes());
    out.put("fast_executor_covers_all", missing.isEmpty());
    out.put("ops_not_covered", missing);
    out.put("float_parameters", parameters);
    out.put("weights", weights);
    PrintWriter o = spec.commandLine().getOut();
    if (json) {
      o.println(Json.line(out));
    } else {
      printTable(o, out, weights, missing);
    }
    o.flush();
    return 0;
  }

  private void printTable(PrintWriter o, Map<String, Object> m, List<Map<String, Object>> weights, Set<String> missing) {
    o.printf("model     %s (IR %s, opset %s, %s)%n", m.get("model"), m.get("ir_version"), m.get("opset"), m.get("producer"));
    o.printf("inputs    %s%n", String.join(", ", (List<String>) m.get("inputs")));
    o.printf("outputs   %s%n", String.join(", ", (List<String>) m.get("outputs")));
    o.printf("ops       %s%n", String.join(" ", (Set<String>) m.get("ops")));
    o.printf("executor  %s%n", missing.isEmpty()
        ? "fast DJL executor covers every op"
        : "not covered: " + String.join(" ", missing) + " (the whole graph runs in ONNX Runtime)");
    o.printf("%nweights (%,d float parameters)%n", (Long) m.get("float_parameters"));
    int width = weights.stream().mapToInt(w -> w.get("name").toString().length()).max().orElse(4);
    for (Map<String, Object> w : weights) {
      Map<String, String> layer = (Map<String, String>) w.get("layer");
      String prunable = layer == null ? "" : "  prunable: " + layer.get("op") + " " + layer.get("node");
      o.printf("  %-" + width + "s  %-8s %-20s %,12d%s%n", w.get("name"), w.get("type"), w.get("shape"),
          (Long) w.get("parameters"), prunable);
    }
  }
}
