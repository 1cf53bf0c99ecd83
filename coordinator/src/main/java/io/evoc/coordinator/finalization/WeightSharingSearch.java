package io.evoc.coordinator.finalization;

import io.evoc.coordinator.finalization.Finalizer.Variant;
import io.evoc.coordinator.quantize.ParetoSearch;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.scoring.CandidateScorer;
import io.evoc.evaluator.scoring.StudentScoring;
import io.evoc.evaluator.scoring.Layer;
import io.evoc.protocol.container.QuantizedTensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Structure-agnostic weight sharing (after Khosrowshahli, Rahnamayan and Ombuki-Berman, 2025): one
 * codebook for every layer, from k bins of equal width over the range of all surviving weights;
 * a weight takes its bin's centre. NSGA-II searches k for the front of (divergence, shared
 * values); then, on each front point, neighbouring bins are merged (the merged bin's centre is
 * its value) while the divergence stays within a tolerance, shrinking the codebook further. No
 * retraining: the survivors are only rounded.
 */
final class WeightSharingSearch {
  static final int MAX_BINS = 1024;
  /** A merge is kept while the divergence stays within this fraction above the unmerged point's... */
  private static final double MERGE_TOLERANCE = 0.05;
  /** ...or this much of the scorer's reference scale, whichever is larger. */
  private static final double MERGE_FLOOR = 0.0005;

  private final CandidateScorer scorer;
  private final ParameterTable student;
  private final StudentScoring points;
  private final List<Layer> layers;
  private final List<float[]> originals = new ArrayList<>();
  private final float min;
  private final float max;

  private WeightSharingSearch(CandidateScorer scorer, ParameterTable student, StudentScoring points) {
    this.scorer = scorer;
    this.student = student;
    this.points = points;
    this.layers = scorer.layers();
    float lo = Float.POSITIVE_INFINITY;
    float hi = Float.NEGATIVE_INFINITY;
    for (Layer l : layers) {
      float[] w = student.get(l.weight());
      originals.add(w);
      for (float v : w) {
        if (v != 0) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
    if (!(lo < hi)) {
      lo = -1;
      hi = 1;
    }
    this.min = lo;
    this.max = hi;
  }

  static List<Variant> run(CandidateScorer scorer, ParameterTable student, StudentScoring points,
      FinalizeSettings settings, BooleanSupplier stop) {
    return new WeightSharingSearch(scorer, student, points).search(settings, stop);
  }

  private List<Variant> search(FinalizeSettings settings, BooleanSupplier stop) {
    List<int[]> seeds = new ArrayList<>();
    for (int k : new int[] {4, 8, 16, 32, 64, 128, 256}) {
      seeds.add(new int[] {k});
    }
    List<ParetoSearch.Point> found = ParetoSearch.run(new int[] {2}, new int[] {MAX_BINS}, seeds, genes -> {
      List<Bins> bins = genes.stream().map(g -> Bins.uniform(min, max, g[0])).toList();
      List<StudentScoring.Point> scores = points.scoreAll(bins.stream().map(this::values).toList());
      List<double[]> objectives = new ArrayList<>();
      for (int i = 0; i < bins.size(); i++) {
        objectives.add(new double[] {scores.get(i).divergence(), bins.get(i).used(originals)});
      }
      return objectives;
    }, 2, settings.population(), settings.generations(), settings.seed(), stop);
    List<Bins> front = new ArrayList<>();
    for (ParetoSearch.Point p : found) {
      Bins uniform = Bins.uniform(min, max, p.genes()[0]).withoutEmpty(originals);
      front.add(uniform);
      if (!stop.getAsBoolean()) {
        front.add(merge(uniform, stop));
      }
    }
    front.sort(Comparator.comparingInt(Bins::size));
    List<Variant> out = new ArrayList<>();
    for (Bins b : front) {
      out.add(variant(b));
    }
    return out;
  }

  /**
   * Joins neighbouring bins, the pairs holding the fewest weights first, while the divergence stays
   * within tolerance. A step joins m disjoint pairs at once: m starts at an eighth of the bins and
   * halves whenever a step would break the tolerance, so a codebook of hundreds of bins needs tens
   * of evaluations, not one per merge.
   */
  private Bins merge(Bins start, BooleanSupplier stop) {
    float base = score(start);
    double limit = Math.max(base * (1 + MERGE_TOLERANCE), base + MERGE_FLOOR * scorer.referenceScale());
    Bins current = start;
    int m = Math.max(1, current.size() / 8);
    while (current.size() > 1 && !stop.getAsBoolean()) {
      Bins merged = current.mergedPairs(current.counts(originals), Math.min(m, current.size() / 2));
      if (score(merged) <= limit) {
        current = merged;
        m = Math.min(m, Math.max(1, current.size() / 8));
      } else if (m > 1) {
        m /= 2;
      } else {
        break;
      }
    }
    return current;
  }

  /** The divergence of the student with every layer's survivors on the bins' values. */
  private float score(Bins bins) {
    return points.score(values(bins)).divergence();
  }

  private Map<String, float[]> values(Bins bins) {
    Map<String, float[]> values = new LinkedHashMap<>();
    for (int l = 0; l < layers.size(); l++) {
      values.put(layers.get(l).weight(), bins.apply(originals.get(l)));
    }
    return values;
  }

  private Variant variant(Bins bins) {
    List<QuantizedTensor> tensors = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    for (int l = 0; l < layers.size(); l++) {
      String name = layers.get(l).weight();
      tensors.add(bins.tensor(name, student.shape(name), originals.get(l)));
      labels.add("shared/" + bins.size());
    }
    return new Variant(tensors, labels);
  }

  /**
   * Bins as ascending edges, bin j being [edges[j], edges[j+1]) (the last one closed), each with its
   * shared value. Zero entries are pruned and stay zero.
   */
  record Bins(double[] edges, float[] values) {
    static Bins uniform(float min, float max, int k) {
      double[] e = new double[k + 1];
      float[] v = new float[k];
      for (int j = 0; j <= k; j++) {
        e[j] = min + (max - (double) min) * j / k;
      }
      e[k] = max;
      for (int j = 0; j < k; j++) {
        v[j] = (float) (0.5 * (e[j] + e[j + 1]));
      }
      return new Bins(e, v);
    }

    int size() {
      return values.length;
    }

    int bin(float v) {
      int j = Arrays.binarySearch(edges, v);
      int b = j >= 0 ? j : -j - 2;
      return Math.max(0, Math.min(size() - 1, b));
    }

    float[] apply(float[] w) {
      float[] out = new float[w.length];
      for (int i = 0; i < w.length; i++) {
        out[i] = w[i] == 0 ? 0 : values[bin(w[i])];
      }
      return out;
    }

    long[] counts(List<float[]> weights) {
      long[] c = new long[size()];
      for (float[] w : weights) {
        for (float v : w) {
          if (v != 0) {
            c[bin(v)]++;
          }
        }
      }
      return c;
    }

    /** Shared values in use: the bins that hold a weight. */
    int used(List<float[]> weights) {
      return (int) Arrays.stream(counts(weights)).filter(c -> c > 0).count();
    }

    /** The same assignment without empty bins (each one's interval given to a neighbour): size() counts shared values. */
    Bins withoutEmpty(List<float[]> weights) {
      long[] c = counts(weights);
      Bins b = this;
      for (int j = c.length - 1; j >= 0 && b.size() > 1; j--) {
        if (c[j] == 0) {
          // The last bin's interval goes to the one before it, any other's to the one after.
          b = j == b.size() - 1 ? b.joined(j - 1, b.values[j - 1]) : b.joined(j, b.values[j + 1]);
        }
      }
      return b;
    }

    /** The {@code m} disjoint neighbouring pairs with the fewest weights each joined into one bin. */
    Bins mergedPairs(long[] counts, int m) {
      Integer[] pairs = new Integer[size() - 1];
      for (int i = 0; i < pairs.length; i++) {
        pairs[i] = i;
      }
      Arrays.sort(pairs, Comparator.comparingLong((Integer i) -> counts[i] + counts[i + 1]).thenComparingInt(i -> i));
      boolean[] taken = new boolean[size()];
      List<Integer> chosen = new ArrayList<>();
      for (int p : pairs) {
        if (chosen.size() == m) {
          break;
        }
        if (!taken[p] && !taken[p + 1]) {
          taken[p] = true;
          taken[p + 1] = true;
          chosen.add(p);
        }
      }
      chosen.sort(Comparator.reverseOrder()); // right to left: earlier indices stay valid
      Bins b = this;
      for (int p : chosen) {
        b = b.merged(p);
      }
      return b;
    }

    /** Bins j and j+1 as one, valued at the centre of the joined interval. */
    Bins merged(int j) {
      return joined(j, (float) (0.5 * (edges[j] + edges[j + 2])));
    }

    private Bins joined(int j, float value) {
      double[] e = new double[edges.length - 1];
      System.arraycopy(edges, 0, e, 0, j + 1);
      System.arraycopy(edges, j + 2, e, j + 1, edges.length - j - 2);
      float[] v = new float[values.length - 1];
      System.arraycopy(values, 0, v, 0, j);
      v[j] = value;
      System.arraycopy(values, j + 2, v, j + 1, values.length - j - 2);
      return new Bins(e, v);
    }

    /** A layer's weights as indices into the whole codebook, which the container stores once for all layers. */
    QuantizedTensor tensor(String name, long[] shape, float[] w) {
      int[] index = new int[w.length];
      for (int i = 0; i < w.length; i++) {
        index[i] = w[i] == 0 ? QuantizedTensor.PRUNED : bin(w[i]);
      }
      return new QuantizedTensor(name, shape, values.clone(), index);
    }
  }
}
