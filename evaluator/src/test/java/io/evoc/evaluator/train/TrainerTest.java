package io.evoc.evaluator.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evoc.evaluator.data.DataException;
import io.evoc.evaluator.data.DataSet;
import io.evoc.evaluator.data.IdxFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainerTest {
  @Test
  void theSameSeedGivesTheSameWeightsAndAnotherSeedDoesNot() {
    DataSet data = FashionMnist.train(600);
    TrainSettings s = new TrainSettings(Architecture.MLP, 1, 3, 100, 1e-3f);
    TrainedNetwork a = Trainer.train(data, s, line -> {});
    TrainedNetwork b = Trainer.train(data, s, line -> {});
    TrainedNetwork c = Trainer.train(data, s.withSeed(4), line -> {});
    assertThat(a.weights()).extracting(TrainedNetwork.Weight::name).containsExactly(
        "fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias");
    assertThat(a.weights().get(0).shape()).containsExactly(300, 784);
    for (int i = 0; i < a.weights().size(); i++) {
      assertThat(b.weights().get(i).values()).containsExactly(a.weights().get(i).values());
    }
    assertThat(c.weights().get(0).values()).isNotEqualTo(a.weights().get(0).values());
    assertThat(a.epochs()).singleElement().satisfies(e -> {
      assertThat(e.epoch()).isEqualTo(1);
      assertThat(e.loss()).isPositive();
    });
  }

  @Test
  void lenetWeightsAreNamedAndShapedLikeTheExport() {
    TrainedNetwork net = Trainer.train(FashionMnist.train(64),
        new TrainSettings(Architecture.LENET5, 1, 1, 64, 1e-3f), line -> {});
    assertThat(net.weights()).extracting(w -> w.name() + java.util.Arrays.toString(w.shape()))
        .containsExactly("conv1.weight[6, 1, 5, 5]", "conv1.bias[6]", "conv2.weight[16, 6, 5, 5]",
            "conv2.bias[16]", "fc1.weight[120, 400]", "fc1.bias[120]", "fc2.weight[84, 120]",
            "fc2.bias[84]", "fc3.weight[10, 84]", "fc3.bias[10]");
  }

  @Test
  void rejectsDataThatIsNotLabelled28x28Images(@TempDir Path dir) throws IOException {
    TrainSettings s = TrainSettings.defaults(Architecture.MLP);
    DataSet wrongShape = idx(dir, "small", 4, 4, 3);
    DataSet badLabel = idx(dir, "badlabel", 28, 28, 10);
    assertThatThrownBy(() -> Trainer.train(wrongShape, s, line -> {}))
        .isInstanceOf(DataException.class).hasMessageContaining("small-images");
    assertThatThrownBy(() -> Trainer.train(badLabel, s, line -> {}))
        .isInstanceOf(DataException.class).hasMessageContaining("label 10");
  }

  /** One black h x w image with the given label, as IDX files. */
  private static DataSet idx(Path dir, String name, int h, int w, int label) throws IOException {
    ByteBuffer images = ByteBuffer.allocate(16 + h * w).putInt(0x0803).putInt(1).putInt(h).putInt(w);
    ByteBuffer labels = ByteBuffer.allocate(9).putInt(0x0801).putInt(1).put((byte) label);
    Path x = Files.write(dir.resolve(name + "-images"), images.array());
    Path y = Files.write(dir.resolve(name + "-labels"), labels.array());
    return IdxFiles.read(x, y);
  }

  @Test
  void settingsAreValidatedAndNamesParsed() {
    assertThat(Architecture.fromName("LeNet5")).isEqualTo(Architecture.LENET5);
    assertThatThrownBy(() -> Architecture.fromName("resnet")).hasMessageContaining("mlp");
    assertThatThrownBy(() -> new TrainSettings(Architecture.MLP, 0, 1, 1, 1e-3f))
        .hasMessageContaining("epochs");
    assertThatThrownBy(() -> new TrainSettings(Architecture.MLP, 1, 1, 1, Float.NaN))
        .hasMessageContaining("learning rate");
    assertThat(List.of(Architecture.values())).allSatisfy(a ->
        assertThat(TrainSettings.defaults(a).epochs()).isPositive());
  }
}
