package io.evoc.coordinator.cli;

import io.evoc.protocol.container.CodedTensor;
import io.evoc.protocol.container.Container;
import io.evoc.protocol.container.ContainerFile;
import io.evoc.protocol.container.ContainerSummary;
import io.evoc.protocol.container.ModelPacking;
import io.evoc.protocol.container.QuantizedTensor;
import io.evoc.protocol.container.TensorCoder;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * How well a container's lossless coding does: each coded stream against the order-0 entropy of
 * the symbols it codes (the mask's context model may go below it), the same quantized tensors
 * through xz -9 and zstd -19, and decoding speed on one thread. Targets are printed, never
 * asserted: they depend on the machine and on the container.
 */
@Command(name = "coding", description = "Container coding vs order-0 entropy, xz -9 and zstd -19; decoding speed.",
    mixinStandardHelpOptions = true)
final class BenchCodingCommand implements Callable<Integer> {
  private static final int WARM_UP = 3;

  @Option(names = "--container", required = true, paramLabel = "M.evoc")
  Path container;

  @Option(names = "--repeat", defaultValue = "20", paramLabel = "N",
      description = "Timed decoding rounds, after " + WARM_UP + " warm-up rounds (default ${DEFAULT-VALUE}).")
  int repeat;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  /** Coded bytes of some streams (tables included) and the order-0 entropy of their symbols, in bytes. */
  private record Coded(long bytes, double entropy) {
    static final Coded NONE = new Coded(0, 0);

    Coded plus(Coded o) {
      return new Coded(bytes + o.bytes, entropy + o.entropy);
    }

    /** Null where the symbols carry no information (one symbol only): no ratio means anything there. */
    Double ratio() {
      return entropy > 0 ? bytes / entropy : null;
    }
  }

  @Override
  public Integer call() {
    if (repeat < 1) {
      throw new IllegalArgumentException("--repeat must be positive");
    }
    Container c = ContainerFile.read(container);
    List<CodedTensor> coded = c.getTensorsList();
    float[] shared = ModelPacking.sharedCodebook(c);
    List<QuantizedTensor> tensors = coded.stream().map(t -> TensorCoder.decodeIndices(t, shared)).toList();
    PrintWriter out = spec.commandLine().getOut();
    int nameWidth = Math.max(6, tensors.stream().mapToInt(t -> t.name().length()).max().orElse(0));
    String row = "%-" + nameWidth + "s %10s %10s %7s | %10s %12s %7s | %10s %12s %7s%n";
    out.printf(Locale.ROOT, row, "tensor", "entries", "survivors", "levels", "mask B", "mask H0 B", "ratio", "index B",
        "index H0 B", "ratio");
    Coded masks = Coded.NONE;
    Coded indices = Coded.NONE;
    long entries = 0;
    long survivors = 0;
    long codebooks = ContainerSummary.of(c).codebooks();
    for (int i = 0; i < coded.size(); i++) {
      CodedTensor ct = coded.get(i);
      QuantizedTensor t = tensors.get(i);
      int kept = t.survivors();
      Coded mask = ct.hasPositions()
          ? new Coded(ContainerSummary.streamBytes(ct.getPositions()),
              entropyBytes(new long[] {t.index().length - kept, kept}))
          : null;
      Coded index = ct.hasRawValues()
          ? new Coded(ContainerSummary.streamBytes(ct.getRawValues()), bytePlaneEntropyBytes(t))
          : new Coded(ContainerSummary.streamBytes(ct.getIndices()), entropyBytes(indexCounts(t)));
      out.printf(Locale.ROOT, row, t.name(), t.index().length, kept, t.codebook().length, bytes(mask), entropy(mask),
          ratio(mask), bytes(index), entropy(index), ratio(index));
      masks = mask == null ? masks : masks.plus(mask);
      indices = indices.plus(index);
      entries += t.index().length;
      survivors += kept;
    }
    out.printf(Locale.ROOT, row, "total", entries, survivors, "", bytes(masks), entropy(masks), ratio(masks), bytes(indices),
        entropy(indices), ratio(indices));
    Coded payload = masks.plus(indices);
    out.printf(Locale.ROOT, "%ncoded streams (positions + indices, tables included) vs order-0 entropy: %d B / %.1f B = %s"
        + " (target <= 1.03)%n", payload.bytes(), payload.entropy(), ratio(payload));

    byte[] natural = NaturalBytes.of(tensors);
    long xz = NaturalBytes.xz9(natural);
    long zstd = NaturalBytes.zstd19(natural);
    out.printf(Locale.ROOT, "%nthe same quantized tensors, %d natural bytes (%s), compressed whole:%n", natural.length,
        NaturalBytes.describe(tensors));
    out.printf(Locale.ROOT, "  %-9s %10d B%n  %-9s %10d B%n", "xz -9", xz, "zstd -19", zstd);
    out.printf(Locale.ROOT, "  %-9s %10d B (positions %d + indices %d + codebooks %d)%n", "evoc",
        payload.bytes() + codebooks, masks.bytes(), indices.bytes(), codebooks);

    double seconds = medianDecodeSeconds(coded, shared);
    // MB = 10^6 bytes of reconstructed float32 weights.
    double mbPerS = 4.0 * entries / seconds / 1e6;
    out.printf(Locale.ROOT, "%ndecoding, one thread, median of %d rounds after %d warm-up: %.2f ms per container,"
        + " %.1f MB/s of float32 weights (target >= 200)%n", repeat, WARM_UP, 1e3 * seconds, mbPerS);

    Map<String, Object> json = new LinkedHashMap<>();
    json.put("container", container.toString());
    json.put("tensors", tensors.size());
    json.put("entries", entries);
    json.put("survivors", survivors);
    json.put("mask_bytes", masks.bytes());
    json.put("mask_entropy_bytes", Json.hundredths(masks.entropy()));
    json.put("index_bytes", indices.bytes());
    json.put("index_entropy_bytes", Json.hundredths(indices.entropy()));
    json.put("payload_bytes", payload.bytes());
    json.put("entropy_bytes", Json.hundredths(payload.entropy()));
    json.put("payload_over_entropy", thousandths(payload.ratio()));
    json.put("codebook_bytes", codebooks);
    json.put("natural_bytes", natural.length);
    json.put("xz9_bytes", xz);
    json.put("zstd19_bytes", zstd);
    json.put("evoc_bytes", payload.bytes() + codebooks);
    json.put("decode_mb_per_s", Json.hundredths(mbPerS));
    out.println(Json.line(json));
    out.flush();
    return 0;
  }

  /** Seconds to decode every tensor once, median over the timed rounds. */
  private double medianDecodeSeconds(List<CodedTensor> tensors, float[] shared) {
    double[] rounds = new double[repeat];
    for (int r = -WARM_UP; r < repeat; r++) {
      long start = System.nanoTime();
      for (CodedTensor t : tensors) {
        TensorCoder.decode(t, shared);
      }
      if (r >= 0) {
        rounds[r] = (System.nanoTime() - start) / 1e9;
      }
    }
    Arrays.sort(rounds);
    return (rounds[(repeat - 1) / 2] + rounds[repeat / 2]) / 2;
  }

  private static long[] indexCounts(QuantizedTensor t) {
    long[] counts = new long[t.codebook().length];
    for (int i : t.index()) {
      if (i != QuantizedTensor.PRUNED) {
        counts[i]++;
      }
    }
    return counts;
  }

  /** What raw values code: the survivors' float32 bytes, each byte plane's order-0 entropy. */
  private static double bytePlaneEntropyBytes(QuantizedTensor t) {
    long[][] counts = new long[4][256];
    for (int i : t.index()) {
      if (i != QuantizedTensor.PRUNED) {
        int bits = Float.floatToRawIntBits(t.codebook()[i]);
        for (int p = 0; p < 4; p++) {
          counts[p][(bits >>> (24 - 8 * p)) & 0xff]++;
        }
      }
    }
    return Arrays.stream(counts).mapToDouble(BenchCodingCommand::entropyBytes).sum();
  }

  /** Order-0 empirical entropy in bytes: the sum over symbols of -log2 p / 8, p each symbol's frequency here. */
  private static double entropyBytes(long[] counts) {
    long n = Arrays.stream(counts).sum();
    double bits = 0;
    for (long k : counts) {
      if (k > 0) {
        bits += k * (Math.log((double) n / k) / Math.log(2));
      }
    }
    return bits / 8;
  }

  /** A ratio to 1.03 needs three decimals, one more than {@link Json#hundredths}. */
  private static Double thousandths(Double v) {
    return v == null ? null : Math.round(v * 1000) / 1000.0;
  }

  private static String bytes(Coded c) {
    return c == null ? "-" : Long.toString(c.bytes());
  }

  private static String entropy(Coded c) {
    return c == null ? "-" : String.format(Locale.ROOT, "%.1f", c.entropy());
  }

  private static String ratio(Coded c) {
    Double r = c == null ? null : c.ratio();
    return r == null ? "-" : String.format(Locale.ROOT, "%.3f", r);
  }
}
