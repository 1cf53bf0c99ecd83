package io.evoc.evaluator.train;

import static org.assertj.core.api.Assertions.assertThat;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.evoc.evaluator.data.DataSet;
import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.model.TensorSpec;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trains each teacher briefly, exports it, and checks that ONNX Runtime running the written file
 * computes what the trained DJL block computed: any mistake in layout (transposes, flatten order,
 * padding) shows up as different logits.
 */
class OnnxExportTest {
  private static final float TOLERANCE = 1e-4f;

  @TempDir
  Path dir;

  @Test
  void mlpExportComputesWhatTheTrainedBlockComputes() throws Exception {
    TrainSettings s = new TrainSettings(Architecture.MLP, 1, 7, 64, 1e-3f);
    check(s, FashionMnist.train(3000), FashionMnist.test(500), 0.6, new long[] {-1, 784});
  }

  @Test
  void lenetExportComputesWhatTheTrainedBlockComputes() throws Exception {
    TrainSettings s = new TrainSettings(Architecture.LENET5, 2, 7, 32, 2e-3f);
    check(s, FashionMnist.train(1000), FashionMnist.test(300), 0.3, new long[] {-1, 1, 28, 28});
  }

  private void check(TrainSettings s, DataSet train, DataSet probe, double minAccuracy, long[] inputDims)
      throws Exception {
    List<String> log = new ArrayList<>();
    Trainer.Probed trained = Trainer.train(train, s, log::add, probe);
    assertThat(log).hasSize(s.epochs()).allMatch(l -> l.contains("train acc"));

    Path file = dir.resolve(s.architecture().cliName() + ".onnx");
    OnnxExport.toModel(trained.network(), file.toString()).write(file);
    OnnxModel model = OnnxModel.read(file);
    assertThat(model.irVersion()).isEqualTo(8);
    assertThat(model.opset()).isEqualTo(13);
    assertThat(model.proto().getProducerName()).isEqualTo("evoc");
    TensorSpec input = model.inputs().get(0);
    assertThat(model.inputs()).hasSize(1);
    assertThat(input.name()).isEqualTo("input");
    assertThat(input.dims()).containsExactly(inputDims);
    assertThat(input.dimNames().get(0)).isEqualTo("N");
    assertThat(model.outputs().get(0).name()).isEqualTo("logits");
    assertThat(model.outputs().get(0).dims()).containsExactly(-1, 10);
    assertThat(model.initializers()).containsKey("fc1.weight").containsKey("fc3.bias");

    float[] ort = runOrt(file, probe, s.architecture());
    float[] djl = trained.logits();
    assertThat(ort).hasSameSizeAs(djl);
    for (int i = 0; i < djl.length; i++) {
      assertThat(ort[i]).as("logit %d of sample %d", i % 10, i / 10)
          .isCloseTo(djl[i], org.assertj.core.data.Offset.offset(TOLERANCE));
    }
    assertThat(accuracy(ort, probe.labels())).isGreaterThan(minAccuracy);
  }

  static float[] runOrt(Path file, DataSet data, Architecture arch) throws OrtException {
    float[] x = new float[data.values().length];
    for (int i = 0; i < x.length; i++) {
      x[i] = data.values()[i] / 255f;
    }
    long[] sample = arch.sampleShape();
    long[] shape = new long[sample.length + 1];
    shape[0] = data.size();
    System.arraycopy(sample, 0, shape, 1, sample.length);
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession session = env.createSession(file.toString(), new OrtSession.SessionOptions());
        OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
        OrtSession.Result out = session.run(java.util.Map.of("input", in))) {
      FloatBuffer logits = ((OnnxTensor) out.get("logits").orElseThrow()).getFloatBuffer();
      float[] result = new float[logits.remaining()];
      logits.get(result);
      return result;
    }
  }

  static double accuracy(float[] logits, int[] labels) {
    int correct = 0;
    for (int i = 0; i < labels.length; i++) {
      int best = 0;
      for (int c = 1; c < 10; c++) {
        if (logits[i * 10 + c] > logits[i * 10 + best]) {
          best = c;
        }
      }
      correct += best == labels[i] ? 1 : 0;
    }
    return (double) correct / labels.length;
  }
}
