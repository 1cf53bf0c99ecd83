package io.evoc.coordinator.cli;

import io.evoc.evaluator.data.DataLoader;
import io.evoc.evaluator.data.DataSet;
import io.evoc.evaluator.data.ModelInput;
import io.evoc.evaluator.data.Preprocessing;
import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.model.TensorSpec;

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
  io.evoc.evaluator.engine.HostTensor batch() {
    return data.batch();
  }
}
