package io.evoc.evaluator.data;

import static io.evoc.evaluator.data.Fixtures.input;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.evoc.evaluator.data.Preprocessing.Normalize;
import io.evoc.protocol.model.TensorSpec;
import org.junit.jupiter.api.Test;

class PreprocessingTest {
  private static final float[] PIXELS = {0, 51, 102, 255};

  @Test
  void autoScalesUint8DataAndLeavesFloatDataAlone() {
    DataSet bytes = new DataSet("b", PIXELS, new long[] {4}, null, StoredType.UINT8);
    DataSet floats = new DataSet("f", PIXELS, new long[] {4}, null, StoredType.FLOAT);
    TensorSpec in = input("x", -1, 4);

    assertThat(Preprocessing.DEFAULT.apply(bytes, in).values()).containsExactly(0f, 0.2f, 0.4f, 1f);
    assertThat(Preprocessing.DEFAULT.apply(floats, in).values()).containsExactly(PIXELS);
    assertThat(Preprocessing.parse("unit", null, null).apply(floats, in).values())
        .containsExactly(0f, 0.2f, 0.4f, 1f);
    DataSet raw = Preprocessing.parse("none", null, null).apply(bytes, in);
    assertThat(raw.values()).containsExactly(PIXELS);
    assertThat(raw.storedType()).isEqualTo(StoredType.FLOAT);
    assertThat(bytes.values()).containsExactly(PIXELS);
  }

  @Test
  void oneMeanAndStdApplyToEveryElement() {
    DataSet bytes = new DataSet("b", PIXELS, new long[] {2, 2}, null, StoredType.UINT8);

    DataSet out = Preprocessing.parse(null, "0.5", "0.25").apply(bytes, input("x", -1, 2, 2));

    assertThat(out.values()).containsExactly(new float[] {-2f, -1.2f, -0.4f, 2f}, within(1e-6f));
  }

  @Test
  void perChannelMeanAndStdFollowTheChannelsFirstAxis() {
    // one sample [C=3, H=1, W=2]
    DataSet chw = new DataSet("c", new float[] {1, 2, 3, 4, 5, 6}, new long[] {3, 1, 2}, null);
    Preprocessing p = Preprocessing.parse("none", "1,3,5", "1,2,4");

    float[] out = p.apply(chw, input("x", -1, 3, 1, 2)).values();

    assertThat(out).containsExactly(0f, 1f, 0f, 0.5f, 0f, 0.25f);
  }

  @Test
  void perChannelMeanAndStdFollowTheChannelsLastAxis() {
    // one sample [H=1, W=2, C=3]
    DataSet hwc = new DataSet("c", new float[] {1, 3, 5, 2, 4, 6}, new long[] {1, 2, 3}, null);
    Preprocessing p = Preprocessing.parse("none", "1,3,5", "1,2,4");

    float[] out = p.apply(hwc, input("x", -1, 1, 2, 3)).values();

    assertThat(out).containsExactly(0f, 0f, 0f, 1f, 0.5f, 0.25f);
  }

  @Test
  void imageNetStatisticsOnUint8Pixels() {
    DataSet hwc = new DataSet("c", new float[] {255, 0, 128}, new long[] {1, 1, 3}, null,
        StoredType.UINT8);

    float[] out = Preprocessing.parse(null, "0.485,0.456,0.406", "0.229,0.224,0.225")
        .apply(hwc, input("x", -1, 1, 1, 3)).values();

    assertThat(out[0]).isCloseTo((1f - 0.485f) / 0.229f, within(1e-6f));
    assertThat(out[1]).isCloseTo(-0.456f / 0.224f, within(1e-6f));
    assertThat(out[2]).isCloseTo((128 / 255f - 0.406f) / 0.225f, within(1e-6f));
  }

  @Test
  void parsesFlagsAndFillsTheMissingHalf() {
    assertThat(Preprocessing.parse(null, null, null)).isEqualTo(Preprocessing.DEFAULT);
    assertThat(Preprocessing.parse(" UNIT ", "0.1307", null))
        .isEqualTo(new Preprocessing(Normalize.UNIT, new float[] {0.1307f}, new float[] {1f}));
    assertThat(Preprocessing.parse(null, null, "2, 4"))
        .isEqualTo(new Preprocessing(Normalize.AUTO, new float[] {0, 0}, new float[] {2, 4}));
  }

  @Test
  void rejectsBadFlags() {
    assertThatThrownBy(() -> Preprocessing.parse("z", null, null))
        .isInstanceOf(DataException.class)
        .hasMessage("--normalize: 'z' is not a mode (expected unit, none or auto)");
    assertThatThrownBy(() -> Preprocessing.parse(null, "0.1,abc", "1,1"))
        .hasMessage("--mean: 'abc' is not a number");
    assertThatThrownBy(() -> Preprocessing.parse(null, "0.1,0.2", "1,1,1"))
        .hasMessage("--mean has 2 values but --std has 3 (give as many of each)");
    assertThatThrownBy(() -> Preprocessing.parse(null, "0", "0"))
        .hasMessage("--std: 0.0 is not a positive number");
  }

  @Test
  void rejectsAChannelCountTheInputDoesNotHave() {
    DataSet flat = new DataSet("f", new float[784], new long[] {784}, null);
    TensorSpec in = input("x", -1, 784);

    assertThatThrownBy(() -> Preprocessing.parse(null, "1,2,3", "1,1,1").apply(flat, in))
        .isInstanceOf(DataException.class)
        .hasMessage("--mean/--std: 3 values, but model input x float[N,784] has no channel axis of size 3");
  }
}
