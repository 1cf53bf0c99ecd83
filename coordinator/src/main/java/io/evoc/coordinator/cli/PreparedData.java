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
    if (model.inputs().size() != 1) {
      throw new IllegalArgumentException(model.source() + ": has " + model.inputs().size()
          + " inputs " + model.inputs() + "; evoc feeds models with exactly one");
    }
    TensorSpec input = model.inputs().get(0);
    DataSet fitted = ModelInput.fit(DataLoader.load(spec, limit), input);
    return new PreparedData(input, preprocessing.apply(fitted, input));
  }

  /** All samples as one batch, [N, sample shape...]. */
  io.evoc.evaluator.engine.HostTensor batch() {
    return data.batch();
  }
}
