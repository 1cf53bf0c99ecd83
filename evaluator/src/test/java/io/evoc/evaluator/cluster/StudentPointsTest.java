package io.evoc.evaluator.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evoc.protocol.cluster.StudentPoint;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StudentPointsTest {
  @Test
  void quantizedWeightsTravelAsLevelsAndComeBackBitForBit() {
    float[] levels = {-0.5f, -0.0f, 0.0f, 0.25f, Float.MIN_VALUE};
    float[] quantized = new float[1000];
    Random r = new Random(1);
    for (int i = 0; i < quantized.length; i++) {
      quantized[i] = levels[r.nextInt(levels.length)];
    }
    float[] dense = new float[300]; // 300 distinct values: too many levels, sent as floats
    for (int i = 0; i < dense.length; i++) {
      dense[i] = (float) r.nextGaussian();
    }
    Map<String, float[]> replaced = new LinkedHashMap<>();
    replaced.put("fc1.weight", quantized);
    replaced.put("fc2.weight", dense);

    StudentPoint point = StudentPoints.encode(replaced);
    assertThat(point.getReplaced(0).getLevelsCount()).isEqualTo(levels.length);
    assertThat(point.getReplaced(0).getIndices().size()).isEqualTo(quantized.length);
    assertThat(point.getReplaced(1).getLevelsCount()).isZero();
    Map<String, float[]> back = StudentPoints.decode(point);
    assertThat(back.keySet()).containsExactly("fc1.weight", "fc2.weight");
    for (String name : replaced.keySet()) {
      float[] want = replaced.get(name);
      float[] got = back.get(name);
      assertThat(got).hasSize(want.length);
      for (int i = 0; i < want.length; i++) {
        assertThat(Float.floatToRawIntBits(got[i])).as("%s[%d]", name, i).isEqualTo(Float.floatToRawIntBits(want[i]));
      }
    }
  }

  @Test
  void anIndexBeyondTheLevelsIsRefusedByName() {
    StudentPoint point = StudentPoints.encode(Map.of("w", new float[] {1f, 2f, 1f}));
    StudentPoint damaged = point.toBuilder().setReplaced(0, point.getReplaced(0).toBuilder()
        .setIndices(com.google.protobuf.ByteString.copyFrom(new byte[] {0, 7, 1}))).build();
    assertThatThrownBy(() -> StudentPoints.decode(damaged)).hasMessageContaining("w: level 7 of 2");
  }
}
