package io.evoc.coordinator.search;

import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.protocol.model.TensorData;
import io.evoc.protocol.search.LayerProgress;
import io.evoc.protocol.search.Parameter;
import io.evoc.protocol.search.SearchCheckpoint;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeMap;

/**
 * The parts of a {@link SearchCheckpoint} that mirror the search's own classes: layer states, the
 * student table and trace entries, each written and read back exactly (floats as floats), and
 * the checks that a checkpoint belongs to the search resuming from it.
 */
final class Checkpoints {
  static final int FORMAT = 1;

  private Checkpoints() {}

  /** What a checkpoint must have been taken under: the settings, key order fixed. */
  static String settingsSha256(SearchSettings s, int samples, int priorSamples) {
    String text = String.join("|", Double.toString(s.sparsity()), new TreeMap<>(s.layerGoals()).toString(),
        s.method().name(), Integer.toString(s.population()), Integer.toString(s.generations()),
        Double.toString(s.step()), Integer.toString(s.swaps()), s.repair().name(), Integer.toString(s.distillEpochs()),
        String.valueOf(s.timeBudget()), Double.toString(s.divergenceBudget()), Long.toString(s.seed()),
        Integer.toString(s.refitIterations()), Integer.toString(samples), Integer.toString(priorSamples));
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }

  static LayerProgress layer(LayerState s) {
    byte[] bits = new byte[(s.size + 7) / 8];
    for (int i = 0; i < s.size; i++) {
      if (s.zeroed[i]) {
        bits[i >>> 3] |= (byte) (1 << (i & 7));
      }
    }
    return LayerProgress.newBuilder().setWeight(s.layer.weight()).setGoalZeros(s.goalZeros)
        .setZeroed(UnsafeByteOperations.unsafeWrap(bits)).setHarm(TensorData.floatBytes(s.harm))
        .setSeen(TensorData.floatBytes(s.seen)).setRestoreHarm(TensorData.floatBytes(s.restoreHarm))
        .setRestoreSeen(TensorData.floatBytes(s.restoreSeen)).build();
  }

  /** Puts a checkpoint's layer back into a fresh state of the same layer. */
  static void restore(LayerState s, LayerProgress p) {
    long floatBytes = (long) s.size * Float.BYTES;
    if (!p.getWeight().equals(s.layer.weight()) || p.getZeroed().size() != (s.size + 7) / 8
        || p.getHarm().size() != floatBytes || p.getSeen().size() != floatBytes
        || p.getRestoreHarm().size() != floatBytes || p.getRestoreSeen().size() != floatBytes) {
      throw mismatch("layer " + p.getWeight() + " does not match " + s.layer.weight() + " (" + s.size + " weights)");
    }
    byte[] bits = p.getZeroed().toByteArray();
    s.zeros = 0;
    for (int i = 0; i < s.size; i++) {
      s.zeroed[i] = (bits[i >>> 3] >>> (i & 7) & 1) != 0;
      s.zeros += s.zeroed[i] ? 1 : 0;
    }
    TensorData.readFloats(p.getHarm(), s.harm);
    TensorData.readFloats(p.getSeen(), s.seen);
    TensorData.readFloats(p.getRestoreHarm(), s.restoreHarm);
    TensorData.readFloats(p.getRestoreSeen(), s.restoreSeen);
    s.goalZeros = Math.toIntExact(p.getGoalZeros());
  }

  static void addParameters(SearchCheckpoint.Builder b, ParameterTable table) {
    table.snapshot().forEach((name, values) -> b.addParameters(Parameter.newBuilder().setName(name)
        .setValues(TensorData.floatBytes(values))));
  }

  static void restoreParameters(ParameterTable table, List<Parameter> parameters) {
    if (parameters.size() != table.names().size()) {
      throw mismatch(parameters.size() + " weights, the model has " + table.names().size());
    }
    for (Parameter p : parameters) {
      if (!table.contains(p.getName()) || (long) table.get(p.getName()).length * Float.BYTES != p.getValues().size()) {
        throw mismatch("weight '" + p.getName() + "' is not the model's");
      }
      float[] values = new float[p.getValues().size() / Float.BYTES];
      TensorData.readFloats(p.getValues(), values);
      table.set(p.getName(), values);
    }
  }

  static IllegalArgumentException mismatch(String what) {
    return new IllegalArgumentException("checkpoint does not belong to this search: " + what);
  }
}
