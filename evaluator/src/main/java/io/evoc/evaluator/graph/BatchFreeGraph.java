package io.evoc.evaluator.graph;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.model.TensorData;
import io.evoc.protocol.onnx.GraphProto;
import io.evoc.protocol.onnx.ModelProto;
import io.evoc.protocol.onnx.NodeProto;
import io.evoc.protocol.onnx.TensorProto;
import java.util.List;
import java.util.Map;

/**
 * Exporters that trace a model at batch 1 often write that batch into its Reshape targets ([1,
 * 392]), so the graph takes one sample at a time, where scoring, refits and distillation feed many
 * at once. For such a model (its input's batch fixed at b) this gives a copy whose constant Reshape
 * targets that begin with b begin with 0 instead, ONNX's "this dimension as in the input". It is
 * used inside evoc only: the model written keeps its own graph. The copy is taken only where it
 * gives the model's outputs, b samples at a time, on the first inputs it will be fed.
 */
public final class BatchFreeGraph {
  /** Largest difference from the model's outputs, relative to their largest magnitude: kernels vary with the batch. */
  private static final float TOLERANCE = 1e-4f;

  private BatchFreeGraph() {}

  /**
   * The graph to run {@code input} [n, ...] through: the model itself where it takes the batch as
   * it is (its input's batch is not fixed, or n is no more than it), else the batch-free copy where
   * there is one and it passes the check, else the model (whose run then fails on n samples).
   */
  public static OnnxModel forBatch(OnnxModel model, NDArray input, Device device) {
    long b = model.inputs().get(0).fixedBatch();
    long n = input.getShape().get(0);
    if (b <= 0 || n <= b) {
      return model;
    }
    OnnxModel free = rewrite(model, b);
    return free != null && sameOutputs(model, free, input, b, device) ? free : model;
  }

  /** The copy, or null where no constant Reshape target, used by Reshapes alone, begins with {@code batch}. */
  static OnnxModel rewrite(OnnxModel model, long batch) {
    ModelProto.Builder proto = model.proto().toBuilder();
    GraphProto.Builder graph = proto.getGraphBuilder();
    boolean changed = false;
    for (int i = 0; i < graph.getInitializerCount(); i++) {
      TensorProto t = graph.getInitializer(i);
      if (t.getDataType() == TensorProto.DataType.INT64_VALUE && onlyReshapeTarget(model, t.getName())) {
        TensorProto freed = freed(t, batch);
        if (freed != null) {
          graph.setInitializer(i, freed);
          changed = true;
        }
      }
    }
    for (NodeProto.Builder node : graph.getNodeBuilderList()) {
      if (node.getOpType().equals("Constant") && node.getOutputCount() == 1
          && onlyReshapeTarget(model, node.getOutput(0))) {
        for (var attr : node.getAttributeBuilderList()) {
          boolean shape = attr.getName().equals("value") && attr.getT().getDataType() == TensorProto.DataType.INT64_VALUE;
          TensorProto freed = shape ? freed(attr.getT(), batch) : null;
          if (freed != null) {
            attr.setT(freed);
            changed = true;
          }
        }
      }
    }
    return changed ? OnnxModel.of(proto.build(), model.source()) : null;
  }

  /** Whether every consumer of {@code name} takes it as the target of a Reshape that reads 0 as "as in the input". */
  private static boolean onlyReshapeTarget(OnnxModel model, String name) {
    boolean used = false;
    for (NodeProto n : model.graph().getNodeList()) {
      for (int k = 0; k < n.getInputCount(); k++) {
        if (n.getInput(k).equals(name)) {
          boolean target = n.getOpType().equals("Reshape") && k == 1
              && n.getAttributeList().stream().noneMatch(a -> a.getName().equals("allowzero") && a.getI() != 0);
          if (!target) {
            return false;
          }
          used = true;
        }
      }
    }
    return used;
  }

  /** A 1-D shape whose first entry is the batch, with that entry 0; else null. */
  private static TensorProto freed(TensorProto t, long batch) {
    long[] shape = TensorData.longs(t);
    if (TensorData.dims(t).length != 1 || shape.length < 2 || shape[0] != batch) {
      return null;
    }
    shape[0] = 0;
    TensorProto.Builder b = t.toBuilder().clearInt64Data().clearRawData();
    for (long v : shape) {
      b.addInt64Data(v);
    }
    return b.build();
  }

  /** Whether the copy, fed the first 2b inputs at once, gives what the model gives b at a time. */
  private static boolean sameOutputs(OnnxModel model, OnnxModel free, NDArray input, long b, Device device) {
    String in = model.inputs().get(0).name();
    String out = model.outputs().get(0).name();
    long k = Math.min(input.getShape().get(0), 2 * b) / b * b;
    try (NDManager scope = input.getManager().newSubManager();
        GraphExecutor original = GraphExecutor.create(model, ParameterTable.of(model), device);
        GraphExecutor copy = GraphExecutor.create(free, ParameterTable.of(free), device)) {
      NDArray all = copy.run(Map.of(in, rows(input, 0, k, scope)), List.of(out), scope).get(out);
      for (long from = 0; from < k; from += b) {
        NDArray expected = original.run(Map.of(in, rows(input, from, from + b, scope)), List.of(out), scope).get(out);
        NDArray got = rows(all, from, from + b, scope);
        if (!got.getShape().equals(expected.getShape())) {
          return false;
        }
        float scale = expected.abs().max().getFloat();
        float gap = got.sub(expected).abs().max().getFloat();
        if (!(gap <= TOLERANCE * Math.max(scale, 1e-6f))) {
          return false;
        }
      }
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  /** Rows [from, to) of the first axis, in {@code scope}. */
  private static NDArray rows(NDArray a, long from, long to, NDManager scope) {
    NDArray r = a.get(from + ":" + to);
    r.attach(scope);
    return r;
  }
}
