package io.evoc.coordinator.quantize;

import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.scoring.CandidateScorer;
import io.evoc.evaluator.scoring.StudentScoring;
import io.evoc.evaluator.scoring.Layer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Quantization bits per layer (the second half of the Directed-Evolution method): every layer's
 * surviving weights quantized every way ({@link Quantizer} × 1..8 bits), then (1) per layer, the
 * fewest bits whose divergence increase stays within a budget, and (2) a joint allocation across
 * layers by NSGA-II over per-layer (quantizer, bits), objectives (coded bytes, divergence). The
 * per-layer answers seed the joint search.
 */
public final class BitAllocation {
  public static final int MAX_BITS = 8;
  /** Divergence increases, relative to the scorer's reference scale, that seed the joint search. */
  private static final double[] SEED_INCREASES = {0.0005, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1};

  /** A full assignment of options to layers, scored. */
  public record Choice(int[] option, long bytes, float divergence, float agreement) {}

  private final CandidateScorer scorer;
  private final List<Layer> layers;
  /** Per layer, options indexed quantizer.ordinal() * MAX_BITS + bits - 1. */
  private final List<LayerOption[]> options = new ArrayList<>();
  private final Map<List<Integer>, Choice> scored = new HashMap<>();
  private final StudentScoring points;
  private final StudentScoring.Point unquantized;

  /** @param points where the student is scored with layers quantized (in process, or the cluster's evaluators) */
  public BitAllocation(CandidateScorer scorer, ParameterTable student, StudentScoring points, long seed) {
    this.scorer = scorer;
    this.points = points;
    this.layers = scorer.layers();
    this.unquantized = points.score(Map.of());
    Quantizer[] kinds = Quantizer.values();
    for (Layer l : layers) {
      float[] w = student.get(l.weight());
      float[] effect = scorer.curvature(l, seed);
      LayerOption[] o = new LayerOption[kinds.length * MAX_BITS];
      for (Quantizer q : kinds) {
        for (int b = 1; b <= MAX_BITS; b++) {
          o[index(q, b)] = LayerOption.of(l.weight(), student.shape(l.weight()), w, effect, q, b);
        }
      }
      options.add(o);
    }
  }

  private static int index(Quantizer q, int bits) {
    return q.ordinal() * MAX_BITS + bits - 1;
  }

  public LayerOption option(int layer, int option) {
    return options.get(layer)[option];
  }

  /**
   * Per layer, with the others unquantized, the option with the fewest bits (then bytes) whose
   * divergence exceeds the unquantized student's by at most {@code increase}; 8-bit Lloyd-Max
   * where none does.
   */
  public int[] perLayer(double increase) {
    scoreSingles();
    int[] choice = new int[layers.size()];
    for (int l = 0; l < layers.size(); l++) {
      int best = index(Quantizer.LLOYD_MAX, MAX_BITS);
      for (int o = 0; o < options.get(l).length; o++) {
        LayerOption candidate = options.get(l)[o];
        LayerOption current = options.get(l)[best];
        boolean smaller = candidate.bits() < current.bits()
            || (candidate.bits() == current.bits() && candidate.bytes() < current.bytes());
        if (smaller && single(l, o).divergence() - unquantized.divergence() <= increase) {
          best = o;
        }
      }
      choice[l] = best;
    }
    return choice;
  }

  /** The Pareto front of (bytes, divergence) over joint choices, by NSGA-II; ordered by bytes. */
  public List<Choice> front(int population, int generations, long seed, BooleanSupplier stop) {
    int n = layers.size();
    int[] lower = new int[2 * n];
    int[] upper = new int[2 * n];
    for (int l = 0; l < n; l++) {
      lower[2 * l] = 0;
      upper[2 * l] = Quantizer.values().length - 1;
      lower[2 * l + 1] = 1;
      upper[2 * l + 1] = MAX_BITS;
    }
    List<int[]> seeds = new ArrayList<>();
    for (double increase : SEED_INCREASES) {
      seeds.add(genes(perLayer(increase * scorer.referenceScale())));
    }
    int[] fine = new int[n];
    Arrays.fill(fine, index(Quantizer.LLOYD_MAX, MAX_BITS));
    seeds.add(genes(fine));
    List<ParetoSearch.Point> front = ParetoSearch.run(lower, upper, seeds, genes -> {
      List<int[]> choices = genes.stream().map(BitAllocation::options).toList();
      return score(choices).stream().map(c -> new double[] {c.bytes(), c.divergence()}).toList();
    }, 2, population, generations, seed, stop);
    return score(front.stream().map(p -> options(p.genes())).toList());
  }

  /** All layers quantized as chosen, scored (memoized); the student is left as it was. */
  public Choice joint(int[] option) {
    return score(List.of(option)).get(0);
  }

  /**
   * Choices scored together (those not scored before), in order. Entry -1: the layer unquantized.
   */
  private List<Choice> score(List<int[]> choices) {
    Map<List<Integer>, int[]> fresh = new LinkedHashMap<>();
    for (int[] c : choices) {
      List<Integer> k = Arrays.stream(c).boxed().toList();
      if (!scored.containsKey(k)) {
        fresh.putIfAbsent(k, c);
      }
    }
    List<Map<String, float[]>> replaced = new ArrayList<>();
    for (int[] c : fresh.values()) {
      Map<String, float[]> values = new LinkedHashMap<>();
      for (int l = 0; l < layers.size(); l++) {
        if (c[l] >= 0) {
          values.put(layers.get(l).weight(), options.get(l)[c[l]].values());
        }
      }
      replaced.add(values);
    }
    List<StudentScoring.Point> scores = replaced.isEmpty() ? List.of() : points.scoreAll(replaced);
    int i = 0;
    for (Map.Entry<List<Integer>, int[]> e : fresh.entrySet()) {
      int[] c = e.getValue();
      long bytes = 0;
      for (int l = 0; l < layers.size(); l++) {
        bytes += c[l] >= 0 ? options.get(l)[c[l]].bytes() : 0;
      }
      StudentScoring.Point p = scores.get(i++);
      scored.put(e.getKey(), new Choice(c.clone(), bytes, p.divergence(), p.agreement()));
    }
    return choices.stream().map(c -> scored.get(Arrays.stream(c).boxed().toList())).toList();
  }

  /** Every layer's every option alone (the others unquantized), scored in one go. */
  private void scoreSingles() {
    List<int[]> singles = new ArrayList<>();
    for (int l = 0; l < layers.size(); l++) {
      for (int o = 0; o < options.get(l).length; o++) {
        singles.add(only(l, o));
      }
    }
    score(singles);
  }

  private Choice single(int layer, int option) {
    return score(List.of(only(layer, option))).get(0);
  }

  private int[] only(int layer, int option) {
    int[] only = new int[layers.size()];
    Arrays.fill(only, -1);
    only[layer] = option;
    return only;
  }

  private static int[] genes(int[] option) {
    int[] g = new int[2 * option.length];
    for (int l = 0; l < option.length; l++) {
      g[2 * l] = option[l] / MAX_BITS;
      g[2 * l + 1] = option[l] % MAX_BITS + 1;
    }
    return g;
  }

  private static int[] options(int[] genes) {
    int[] o = new int[genes.length / 2];
    for (int l = 0; l < o.length; l++) {
      o[l] = genes[2 * l] * MAX_BITS + genes[2 * l + 1] - 1;
    }
    return o;
  }
}
