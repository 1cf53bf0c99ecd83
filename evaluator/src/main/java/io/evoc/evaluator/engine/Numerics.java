package io.evoc.evaluator.engine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The environment that fixes libtorch's CPU arithmetic. Left to itself, libtorch picks its kernels
 * by the CPU it finds: MKL's GEMM splits its sums differently from four threads up (an MLP search
 * on this project's 2-core machine gave other bytes with libtorch at 4, 8 or 16 threads), and ATen
 * and oneDNN take the widest vector instructions the CPU has. Scores would then differ between
 * hosts and core counts, and so would a cluster's results with the evaluators it happened to have.
 * Pinned to the AVX2 code paths (MKL's conditional numerical reproducibility, ATen's and oneDNN's
 * instruction caps), the same search gives the same bytes at 1 to 16 threads (not those of an
 * unpinned run: MKL's reproducible mode takes other code paths). The libraries read these
 * variables once, when libtorch loads, so the launcher, the image and every JVM evoc starts set
 * them; a JVM started otherwise warns.
 */
public final class Numerics {
  private Numerics() {}

  /** Variable and the value evoc runs with, in the order they are shown. */
  public static final Map<String, String> PINNED = pinned();

  private static Map<String, String> pinned() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("MKL_CBWR", "AVX2");
    m.put("ATEN_CPU_CAPABILITY", "avx2");
    m.put("ONEDNN_MAX_CPU_ISA", "AVX2");
    return java.util.Collections.unmodifiableMap(m);
  }

  /** What {@code env} sets of them, e.g. {@code MKL_CBWR=AVX2 ATEN_CPU_CAPABILITY=avx2 ...}. */
  public static String describe(Map<String, String> env) {
    return PINNED.keySet().stream().map(k -> k + "=" + env.getOrDefault(k, "unset"))
        .collect(Collectors.joining(" "));
  }

  /** This JVM's: what an evaluator reports, so that a cluster can tell mixed arithmetic. */
  public static String current() {
    return describe(System.getenv());
  }

  /** The variables {@code env} lacks or sets to other values. */
  public static List<String> unpinned(Map<String, String> env) {
    List<String> out = new ArrayList<>();
    PINNED.forEach((k, v) -> {
      if (!v.equals(env.get(k))) {
        out.add(k + (env.containsKey(k) ? "=" + env.get(k) : " unset"));
      }
    });
    return out;
  }

  /** One line for stderr when this JVM's arithmetic is not the pinned one; null when it is. */
  public static String warning() {
    List<String> off = unpinned(System.getenv());
    if (off.isEmpty()) {
      return null;
    }
    return "evoc: warning: libtorch's CPU arithmetic is not pinned (" + String.join(", ", off)
        + "): scores, and so results, may differ with the CPU and its core count; ./evoc sets "
        + describe(PINNED);
  }
}
