package io.evoc.evaluator.train;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.evoc.evaluator.data.DataException;
import io.evoc.evaluator.data.DataSet;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Trains a teacher network with DJL on the PyTorch engine (CPU): Adam at a fixed rate, softmax
 * cross-entropy on raw logits, inputs scaled to [0, 1] by dividing by 255 and nothing else, which is
 * what {@code evoc eval} applies to uint8 data.
 */
public final class Trainer {
  private static final String ENGINE = "PyTorch";

  // libtorch has one global generator; runs that overlapped would draw from it in turn and neither
  // would be reproducible, so runs in one JVM take turns.
  private static final Object ENGINE_SEED = new Object();

  private Trainer() {}

  /**
   * Trains on labelled 28x28 images with values 0..255, logging one line per epoch. Same data and
   * settings give the same weights on the same machine and thread count.
   */
  public static TrainedNetwork train(DataSet train, TrainSettings settings, Consumer<String> log) {
    return train(train, settings, log, null).network();
  }

  /** A trained network and the trained DJL block's own logits on some probe samples. */
  record Probed(TrainedNetwork network, float[] logits) {}

  /** As {@link #train}, then runs the trained block on {@code probe} (when not null). */
  static Probed train(DataSet train, TrainSettings s, Consumer<String> log, DataSet probe) {
    requireImages(train, true);
    if (probe != null) {
      requireImages(probe, false);
    }
    Architecture arch = s.architecture();
    DefaultTrainingConfig config = new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
        .optOptimizer(Optimizer.adam().optLearningRateTracker(Tracker.fixed(s.learningRate())).build())
        .optDevices(new Device[] {Device.cpu()});
    synchronized (ENGINE_SEED) {
      Engine.getEngine(ENGINE).setRandomSeed(Long.hashCode(s.seed()));
      try (Model model = Model.newInstance("evoc-" + arch.cliName(), ENGINE)) {
        model.setBlock(Networks.block(arch));
        try (ai.djl.training.Trainer trainer = model.newTrainer(config)) {
          trainer.initialize(Networks.inputShape(arch, s.batchSize()));
          List<TrainedNetwork.Epoch> epochs = new ArrayList<>();
          int[] order = new int[train.size()];
          for (int i = 0; i < order.length; i++) {
            order[i] = i;
          }
          SplittableRandom random = new SplittableRandom(s.seed());
          for (int e = 1; e <= s.epochs(); e++) {
            shuffle(order, random);
            TrainedNetwork.Epoch epoch = epoch(trainer, train, order, s, e);
            epochs.add(epoch);
            log.accept(String.format(Locale.ROOT, "%s epoch %d/%d  loss %.4f  train acc %.4f  %.1f s",
                arch.cliName(), e, s.epochs(), epoch.loss(), epoch.accuracy(), epoch.seconds()));
          }
          TrainedNetwork network = new TrainedNetwork(s, Networks.weights(arch, model.getBlock()), epochs);
          return new Probed(network, probe == null ? null : predict(trainer, probe, arch, s.batchSize()));
        }
      }
    }
  }

  private static TrainedNetwork.Epoch epoch(ai.djl.training.Trainer trainer, DataSet data, int[] order,
      TrainSettings s, int number) {
    long start = System.nanoTime();
    double lossSum = 0;
    long correct = 0;
    for (int from = 0; from < order.length; from += s.batchSize()) {
      int n = Math.min(s.batchSize(), order.length - from);
      float[] x = new float[n * Architecture.PIXELS];
      long[] y = new long[n];
      for (int i = 0; i < n; i++) {
        int sample = order[from + i];
        scale(data.values(), sample, x, i);
        y[i] = data.labels()[sample];
      }
      // Batch inputs, activations and loss live in this scope; only the parameters' gradients and
      // Adam's state, owned by the model, outlast it.
      try (NDManager scope = trainer.getManager().newSubManager()) {
        NDArray labels = scope.create(y);
        try (GradientCollector gc = trainer.newGradientCollector()) {
          NDArray logits = trainer.forward(new NDList(
              scope.create(x, Networks.inputShape(s.architecture(), n)))).singletonOrThrow();
          NDArray loss = trainer.getLoss().evaluate(new NDList(labels), new NDList(logits));
          gc.backward(loss);
          lossSum += loss.getFloat() * n;
          correct += logits.argMax(1).eq(labels).countNonzero().getLong();
        }
        trainer.step();
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return new TrainedNetwork.Epoch(number, lossSum / order.length, (double) correct / order.length, seconds);
  }

  private static float[] predict(ai.djl.training.Trainer trainer, DataSet data, Architecture arch, int batch) {
    float[] out = new float[data.size() * Architecture.CLASSES];
    for (int from = 0; from < data.size(); from += batch) {
      int n = Math.min(batch, data.size() - from);
      float[] x = new float[n * Architecture.PIXELS];
      for (int i = 0; i < n; i++) {
        scale(data.values(), from + i, x, i);
      }
      try (NDManager scope = trainer.getManager().newSubManager()) {
        NDArray logits = trainer.evaluate(new NDList(scope.create(x, Networks.inputShape(arch, n))))
            .singletonOrThrow();
        System.arraycopy(logits.toFloatArray(), 0, out, from * Architecture.CLASSES, n * Architecture.CLASSES);
      }
    }
    return out;
  }

  /** Sample {@code sample} of {@code values}, divided by 255, into slot {@code slot} of {@code batch}. */
  private static void scale(float[] values, int sample, float[] batch, int slot) {
    int src = sample * Architecture.PIXELS;
    int dst = slot * Architecture.PIXELS;
    for (int j = 0; j < Architecture.PIXELS; j++) {
      batch[dst + j] = values[src + j] / 255f;
    }
  }

  private static void shuffle(int[] a, SplittableRandom random) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  private static void requireImages(DataSet data, boolean labelled) {
    if (data.elementsPerSample() != Architecture.PIXELS) {
      throw new DataException(data.source() + ": samples of shape "
          + java.util.Arrays.toString(data.sampleShape()) + ", the teachers take 28x28 images");
    }
    if (data.size() == 0) {
      throw new DataException(data.source() + ": no samples");
    }
    // Training divides by 255, as eval's default does for uint8 data only: float images would be
    // scaled twice and the teacher would disagree with every later evaluation.
    if (data.storedType() != io.evoc.evaluator.data.StoredType.UINT8) {
      throw new DataException(data.source() + ": the teachers train on uint8 images (0..255), this data is "
          + data.storedType().name().toLowerCase(java.util.Locale.ROOT));
    }
    if (!labelled) {
      return;
    }
    if (!data.hasLabels()) {
      throw new DataException(data.source() + ": training needs labels");
    }
    for (int label : data.labels()) {
      if (label < 0 || label >= Architecture.CLASSES) {
        throw new DataException(data.source() + ": label " + label + " is outside 0.."
            + (Architecture.CLASSES - 1));
      }
    }
  }
}
