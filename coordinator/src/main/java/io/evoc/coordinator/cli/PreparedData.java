package io.evoc.coordinator.cli;

import io.evoc.evaluator.data.Batch;
import io.evoc.evaluator.data.BatchPlan;
import io.evoc.evaluator.data.DataLoader;
import io.evoc.evaluator.data.DataSet;
import io.evoc.evaluator.data.ModelInput;
import io.evoc.evaluator.data.Preprocessing;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.engine.InferenceEngine;
import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.model.TensorSpec;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;

/** Data as a model takes it: loaded, limited, fitted to the model's input, preprocessed. */
record PreparedData(TensorSpec input, DataSet data) {
  static PreparedData load(OnnxModel model, String spec, int limit, Preprocessing preprocessing) {
    onlyInput(model); // before the data is read
    return of(model, DataLoader.load(spec, limit), preprocessing);
  }

  /** Data already loaded, as {@code model} takes it: one file can feed models with different inputs. */
  static PreparedData of(OnnxModel model, DataSet raw, Preprocessing preprocessing) {
    TensorSpec input = onlyInput(model);
    return new PreparedData(input, preprocessing.apply(ModelInput.fit(raw, input), input));
  }

  /** The model's one input; a one-line error naming the model for any other count. */
  static TensorSpec onlyInput(OnnxModel model) {
    if (model.inputs().size() != 1) {
      throw new IllegalArgumentException(model.source() + ": has " + model.inputs().size()
          + " inputs " + model.inputs() + "; evoc feeds models with exactly one");
    }
    return model.inputs().get(0);
  }

  /** All samples as one batch, [N, sample shape...]. */
  HostTensor batch() {
    return data.batch();
  }

  /**
   * The engine's first output on every sample, [N, output dims...]: fed {@code batchSize} samples
   * per call, or the input's fixed batch with the last call padded, the padding dropped.
   */
  HostTensor firstOutput(InferenceEngine engine, int batchSize) {
    BatchPlan plan = BatchPlan.of(data, input, batchSize);
    List<String> first = List.of(engine.outputNames().get(0));
    float[] padded = plan.newBuffer();
    float[] rows = new float[0];
    long[] shape = {0};
    for (Batch b : plan.batches()) {
      float[] x;
      if (b.count() == data.size() && !b.isPadded()) {
        x = data.values(); // every sample in one call, as they are: no copy
      } else {
        FloatBuffer view = plan.values(b, padded);
        x = new float[view.remaining()];
        view.get(x);
      }
      HostTensor out = engine.run(Map.of(input.name(), new HostTensor(x, plan.shape(b))), first).get(first.get(0));
      int width = out.rowLength();
      if (b.index() == 0) {
        rows = new float[Math.multiplyExact(data.size(), width)];
        shape = out.shape().clone();
        shape[0] = data.size();
      }
      System.arraycopy(out.data(), 0, rows, b.offset() * width, b.count() * width);
    }
    return new HostTensor(rows, shape);
  }
}
