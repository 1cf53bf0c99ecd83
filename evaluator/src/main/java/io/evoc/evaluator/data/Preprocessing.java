package io.evoc.evaluator.data;

import io.evoc.protocol.model.TensorSpec;
import java.util.Arrays;
import java.util.Locale;

/**
 * What every command does to values after fitting them to the model input: scale, then {@code (v
 * - mean) / std} per channel. One mean/std value applies to every element; k values apply along
 * the input's channel axis, the axis of size k: axis 1 of an NCHW input, else the last axis (NHWC).
 *
 * @param normalize the scaling applied first
 * @param mean per-channel means, empty for none
 * @param std per-channel standard deviations, as many as means (empty when there are none)
 */
public record Preprocessing(Normalize normalize, float[] mean, float[] std) {
  /** How values are scaled before mean and std. */
  public enum Normalize {
    /** {@link #UNIT} for uint8 data, {@link #NONE} for anything else. */
    AUTO,
    /** Divide by 255. */
    UNIT,
    /** Leave as stored. */
    NONE
  }

  /** {@code normalize auto}, no mean or std. */
  public static final Preprocessing DEFAULT =
      new Preprocessing(Normalize.AUTO, new float[0], new float[0]);

  public Preprocessing {
    mean = mean.clone();
    std = std.clone();
    if (mean.length != std.length) {
      throw new DataException("--mean has " + mean.length + " values but --std has " + std.length
          + " (give as many of each)");
    }
    for (float s : std) {
      if (!(s > 0) || Float.isInfinite(s)) {
        throw new DataException("--std: " + s + " is not a positive number");
      }
    }
  }

  /**
   * From the flags as typed, each null when absent: {@code normalize} is {@code auto}, {@code
   * unit} or {@code none}; {@code mean} and {@code std} are comma-separated numbers. A mean without
   * a std divides by 1; a std without a mean subtracts 0.
   */
  public static Preprocessing parse(String normalize, String mean, String std) {
    Normalize mode = Normalize.AUTO;
    if (normalize != null) {
      try {
        mode = Normalize.valueOf(normalize.strip().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new DataException("--normalize: '" + normalize
            + "' is not a mode (expected unit, none or auto)");
      }
    }
    float[] means = numbers("--mean", mean);
    float[] stds = numbers("--std", std);
    if (mean == null && std != null) {
      means = new float[stds.length];
    } else if (std == null && mean != null) {
      stds = new float[means.length];
      Arrays.fill(stds, 1f);
    }
    return new Preprocessing(mode, means, stds);
  }

  @Override
  public float[] mean() {
    return mean.clone();
  }

  @Override
  public float[] std() {
    return std.clone();
  }

  /**
   * The data's values preprocessed, as a new data set of {@link StoredType#FLOAT}; {@code fitted}
   * is the result of {@link ModelInput#fit} for {@code input}, which locates the channel axis.
   */
  public DataSet apply(DataSet fitted, TensorSpec input) {
    boolean unit = normalize == Normalize.UNIT
        || normalize == Normalize.AUTO && fitted.storedType() == StoredType.UINT8;
    if (!unit && mean.length == 0) {
      return fitted.storedType() == StoredType.FLOAT
          ? fitted : fitted.withValues(fitted.values(), StoredType.FLOAT);
    }
    int channels = Math.max(mean.length, 1);
    int stride = channels == 1 ? 1 : channelStride(fitted.sampleShape(), channels, input);
    float[] in = fitted.values();
    float[] out = new float[in.length];
    float[] m = mean.length == 0 ? new float[] {0f} : mean;
    float[] s = std.length == 0 ? new float[] {1f} : std;
    for (int i = 0; i < in.length; i++) {
      int c = channels == 1 ? 0 : (i / stride) % channels;
      float v = unit ? in[i] / 255f : in[i];
      out[i] = (v - m[c]) / s[c];
    }
    return fitted.withValues(out, StoredType.FLOAT);
  }

  /** Elements between one channel and the next along the channel axis of {@code sample}. */
  private static int channelStride(long[] sample, int channels, TensorSpec input) {
    int axis;
    if (sample.length > 0 && sample[0] == channels) {
      axis = 0;
    } else if (sample.length > 0 && sample[sample.length - 1] == channels) {
      axis = sample.length - 1;
    } else {
      throw new DataException("--mean/--std: " + channels + " values, but model input " + input
          + " has no channel axis of size " + channels);
    }
    long stride = 1;
    for (int i = axis + 1; i < sample.length; i++) {
      stride *= sample[i];
    }
    return (int) stride;
  }

  private static float[] numbers(String flag, String text) {
    if (text == null) {
      return new float[0];
    }
    String[] parts = text.split(",", -1);
    float[] values = new float[parts.length];
    for (int i = 0; i < parts.length; i++) {
      try {
        values[i] = Float.parseFloat(parts[i].strip());
      } catch (NumberFormatException e) {
        throw new DataException(flag + ": '" + parts[i].strip() + "' is not a number");
      }
      if (!Float.isFinite(values[i])) {
        throw new DataException(flag + ": '" + parts[i].strip() + "' is not a finite number");
      }
    }
    return values;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Preprocessing p && p.normalize == normalize
        && Arrays.equals(p.mean, mean) && Arrays.equals(p.std, std);
  }

  @Override
  public int hashCode() {
    return normalize.hashCode() * 31 + Arrays.hashCode(mean) * 17 + Arrays.hashCode(std);
  }

  @Override
  public String toString() {
    return "normalize " + normalize.name().toLowerCase(Locale.ROOT)
        + (mean.length == 0 ? "" : " mean " + Arrays.toString(mean)
            + " std " + Arrays.toString(std));
  }
}
