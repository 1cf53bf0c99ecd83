package io.evoc.evaluator.graph;

import io.evoc.protocol.model.OnnxModel;
import io.evoc.protocol.model.TensorData;
import io.evoc.protocol.onnx.TensorProto;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The model's float32 weights on the host, editable while engines keep running: each entry carries a
 * version that engines compare against their device copy, so an edit is uploaded once, on the next
 * run, and nothing is rebuilt. Not thread-safe: one writer, engines on the same thread.
 */
public final class ParameterTable {
  private final Map<String, Entry> entries = new LinkedHashMap<>();
  private long revision;

  /** A weight: its values (never mutated in place), shape and edit version. */
  public record Entry(float[] values, long[] shape, long version) {}

  /** Every FLOAT initializer of the model, in file order. */
  public static ParameterTable of(OnnxModel model) {
    ParameterTable table = new ParameterTable();
    for (TensorProto t : model.initializers().values()) {
      if (t.getDataType() == TensorProto.DataType.FLOAT_VALUE) {
        table.entries.put(t.getName(), new Entry(TensorData.floats(t), TensorData.dims(t), 0));
      }
    }
    return table;
  }

  public Set<String> names() {
    return Collections.unmodifiableSet(entries.keySet());
  }

  public boolean contains(String name) {
    return entries.containsKey(name);
  }

  public Entry entry(String name) {
    Entry e = entries.get(name);
    if (e == null) {
      throw new IllegalArgumentException("no float32 weight named '" + name + "'");
    }
    return e;
  }

  /** A copy of a weight's values. */
  public float[] get(String name) {
    return entry(name).values().clone();
  }

  public long[] shape(String name) {
    return entry(name).shape().clone();
  }

  /** Replaces a weight's values; the array is copied, so the caller may reuse it. */
  public void set(String name, float[] values) {
    Entry old = entry(name);
    if (values.length != old.values().length) {
      throw new IllegalArgumentException("weight '" + name + "' has " + old.values().length
          + " elements, got " + values.length);
    }
    entries.put(name, new Entry(values.clone(), old.shape(), old.version() + 1));
    revision++;
  }

  /**
   * Runs {@code work} with some weights replaced, then puts their previous values back, also when
   * it throws: how a search scores a trial student without keeping it.
   */
  public <T> T with(Map<String, float[]> replacements, java.util.function.Supplier<T> work) {
    Map<String, float[]> previous = new LinkedHashMap<>();
    replacements.keySet().forEach(name -> previous.put(name, entry(name).values()));
    try {
      replacements.forEach(this::set);
      return work.get();
    } finally {
      previous.forEach(this::set);
    }
  }

  /** Counts edits to any weight: what was computed from the table at one revision holds until it moves. */
  public long revision() {
    return revision;
  }

  /**
   * Hands each weight whose version differs from the one in {@code held} (name to the version the
   * caller's copy has) to {@code upload}, then records the new version there: how an engine keeps
   * its device copies current, touching only what was edited.
   */
  public void forEachChanged(Map<String, Long> held, java.util.function.BiConsumer<String, Entry> upload) {
    entries.forEach((name, e) -> {
      Long have = held.get(name);
      if (have == null || have != e.version()) {
        upload.accept(name, e);
        held.put(name, e.version());
      }
    });
  }

  /** Current values of every weight, for writing the model back. */
  public Map<String, float[]> snapshot() {
    Map<String, float[]> out = new LinkedHashMap<>();
    entries.forEach((k, v) -> out.put(k, v.values()));
    return out;
  }

  public long parameterCount() {
    return entries.values().stream().mapToLong(e -> e.values().length).sum();
  }
}
