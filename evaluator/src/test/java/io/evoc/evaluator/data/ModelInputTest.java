package io.evoc.evaluator.data;

import static io.evoc.evaluator.data.Fixtures.data;
import static io.evoc.evaluator.data.Fixtures.input;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ModelInputTest {
  private final DataSet images = data(new long[] {28, 28}, 3, StoredType.UINT8);

  @Test
  void reshapesImagesToAFlatInput() {
    DataSet fitted = ModelInput.fit(images, input("x", -1, 784));

    assertThat(fitted.sampleShape()).containsExactly(784);
    assertThat(fitted.values()).isSameAs(images.values());
    assertThat(fitted.labels()).isSameAs(images.labels());
  }

  @Test
  void reshapesImagesToChannelsFirstAndChannelsLast() {
    assertThat(ModelInput.fit(images, input("x", 1, 1, 28, 28)).sampleShape()).containsExactly(1, 28, 28);
    assertThat(ModelInput.fit(images, input("x", -1, 28, 28, 1)).sampleShape()).containsExactly(28, 28, 1);
    DataSet nhwc = data(new long[] {28, 28, 1}, 2, StoredType.FLOAT);
    assertThat(ModelInput.fit(nhwc, input("x", -1, 1, 28, 28)).values()).isSameAs(nhwc.values());
  }

  @Test
  void fillsSymbolicDimensionsFromTheData() {
    assertThat(ModelInput.fit(images, input("x", -1, 1, -1, -1)).sampleShape()).containsExactly(1, 28, 28);
    assertThat(ModelInput.fit(images, input("x", -1, -1)).sampleShape()).containsExactly(784);
    assertThat(ModelInput.fit(images, input("x", -1, 28, -1)).sampleShape()).containsExactly(28, 28);
    assertThat(ModelInput.fit(images, input("x", -1, -1, -1, 1)).sampleShape()).containsExactly(28, 28, 1);
  }

  @Test
  void transposesChannelsLastDataForAChannelsFirstInput() {
    // 2 samples of [H=2, W=2, C=3]: value = sample*100 + h*10 + w + c/10 (as hundredths)
    DataSet hwc = new DataSet("rgb.npy", hwc(2, 2, 2, 3), new long[] {2, 2, 3}, null, StoredType.FLOAT);

    DataSet chw = ModelInput.fit(hwc, input("x", -1, 3, 2, 2));

    assertThat(chw.sampleShape()).containsExactly(3, 2, 2);
    // sample 1, channel 2, h 1, w 0
    assertThat(chw.values()[12 + 2 * 4 + 1 * 2 + 0]).isEqualTo(hwc.values()[12 + (1 * 2 + 0) * 3 + 2]);
    for (int s = 0; s < 2; s++) {
      for (int c = 0; c < 3; c++) {
        for (int p = 0; p < 4; p++) {
          assertThat(chw.values()[s * 12 + c * 4 + p]).isEqualTo(hwc.values()[s * 12 + p * 3 + c]);
        }
      }
    }
    DataSet back = ModelInput.fit(chw, input("y", -1, 2, 2, 3));
    assertThat(back.values()).containsExactly(hwc.values());
    assertThat(back.sampleShape()).containsExactly(2, 2, 3);
  }

  @Test
  void transposesWithSymbolicSpatialDimensions() {
    DataSet hwc = new DataSet("rgb.npy", hwc(1, 4, 5, 3), new long[] {4, 5, 3}, null, StoredType.FLOAT);

    DataSet chw = ModelInput.fit(hwc, input("x", -1, 3, -1, -1));

    assertThat(chw.sampleShape()).containsExactly(3, 4, 5);
    assertThat(chw.values()[2 * 20 + 3 * 5 + 4]).isEqualTo(hwc.values()[(3 * 5 + 4) * 3 + 2]);
  }

  @Test
  void refusesSamplesThatDoNotFit() {
    DataSet rgb = new DataSet("data.npz", new float[32 * 32 * 3], new long[] {32, 32, 3}, null);
    var spec = new io.evoc.protocol.model.TensorSpec("input_1", 1, new long[] {-1, 28, 28, 1},
        java.util.List.of("N", "", "", ""));

    assertThatThrownBy(() -> ModelInput.fit(rgb, spec))
        .isInstanceOf(DataException.class)
        .hasMessage("data.npz: samples of shape [32,32,3] do not fit model input input_1 float[N,28,28,1]");
    assertThatThrownBy(() -> ModelInput.fit(images, input("x", -1, -1, -1, -1)))
        .hasMessage("mem: samples of shape [28,28] do not fit model input x float[N,?,?,?]");
    assertThatThrownBy(() -> ModelInput.fit(images, input("x", -1, 3, 28, 28)))
        .hasMessage("mem: samples of shape [28,28] do not fit model input x float[N,3,28,28]");
    assertThatThrownBy(() -> ModelInput.fit(images, input("x")))
        .hasMessageContaining("has no batch dimension");
  }

  private static float[] hwc(int samples, int h, int w, int c) {
    float[] v = new float[samples * h * w * c];
    int i = 0;
    for (int s = 0; s < samples; s++) {
      for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
          for (int k = 0; k < c; k++) {
            v[i++] = s * 1000 + y * 100 + x * 10 + k;
          }
        }
      }
    }
    return v;
  }
}
