package io.evoc.coordinator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.evoc.protocol.container.ContainerFile;
import io.evoc.protocol.container.ModelPacking;
import io.evoc.protocol.container.ParetoPoint;
import io.evoc.protocol.container.QuantizedTensor;
import io.evoc.protocol.model.OnnxModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The coding bench on a container made here, without libtorch: figures are checked for sense, not speed. */
class BenchCodingCommandTest {
  private static final Path MLP = Path.of(Cli.path("examples/models/fashion-mlp.onnx"));
  private static final List<String> WEIGHTS = List.of("fc1.weight", "fc2.weight", "fc3.weight");
  /** 784·300 + 300·100 + 100·10. */
  private static final long ENTRIES = 266_200;
  private static final int LEVELS = 16;

  /** About 80% pruned, survivors on a skewed 16-level codebook, from a fixed seed. */
  private static Path container(Path dir) throws IOException {
    OnnxModel model = OnnxModel.read(MLP);
    SplittableRandom random = new SplittableRandom(42);
    float[] codebook = new float[LEVELS];
    for (int k = 0; k < LEVELS; k++) {
      codebook[k] = (k - 7.5f) * 0.05f;
    }
    List<QuantizedTensor> tensors = new ArrayList<>();
    for (String name : WEIGHTS) {
      long[] shape = model.initializers().get(name).getDimsList().stream().mapToLong(Long::longValue).toArray();
      int[] index = new int[model.floats(name).length];
      for (int i = 0; i < index.length; i++) {
        // The smaller of two uniform draws: low indices are likelier, so the indices carry under 4 bits.
        index[i] = random.nextDouble() < 0.8 ? QuantizedTensor.PRUNED
            : Math.min(random.nextInt(LEVELS), random.nextInt(LEVELS));
      }
      tensors.add(new QuantizedTensor(name, shape, codebook.clone(), index));
    }
    Path file = dir.resolve("m.evoc");
    ContainerFile.write(ModelPacking.pack(model, CompressCommand.sha256(Files.readAllBytes(MLP)), tensors, Map.of(),
        ParetoPoint.getDefaultInstance()), file);
    return file;
  }

  @Test
  void reportsCodingAgainstEntropyAndTheGeneralCompressors(@TempDir Path dir) throws IOException {
    Path file = container(dir);
    Cli r = Cli.run("bench", "coding", "--container", file.toString(), "--repeat", "2");
    assertThat(r.exitCode()).as(r.err()).isZero();
    List<String> lines = r.out().lines().toList();
    assertThat(lines).anyMatch(l -> l.startsWith("total")).anyMatch(l -> l.contains("xz -9"));
    Map<String, Object> json = new Cli(0, lines.get(lines.size() - 1), r.err()).json();
    assertThat(((Number) json.get("entries")).longValue()).isEqualTo(ENTRIES);
    assertThat(((Number) json.get("payload_over_entropy")).doubleValue()).isBetween(0.9, 1.2);
    assertThat(((Number) json.get("payload_bytes")).longValue())
        .isEqualTo(((Number) json.get("mask_bytes")).longValue() + ((Number) json.get("index_bytes")).longValue());
    // One byte per entry and 16 float32 levels per tensor.
    // The three tensors share one codebook: the container and the natural bytes hold it once.
    assertThat(((Number) json.get("natural_bytes")).longValue()).isEqualTo(ENTRIES + 4 * LEVELS);
    assertThat(((Number) json.get("xz9_bytes")).longValue()).isPositive();
    assertThat(((Number) json.get("zstd19_bytes")).longValue()).isPositive();
    assertThat(((Number) json.get("decode_mb_per_s")).doubleValue()).isPositive();
  }

  @Test
  void aDamagedContainerIsNamedInOneLine(@TempDir Path dir) throws IOException {
    Path file = container(dir);
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length / 2] ^= 0x10;
    Files.write(file, bytes);
    Cli r = Cli.run("bench", "coding", "--container", file.toString(), "--repeat", "2");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.err()).startsWith("evoc: ").contains(file.toString()).doesNotContain("\n");
    assertThat(r.out()).isEmpty();
  }
}
