package io.evoc.coordinator.finalization;

import io.evoc.coordinator.quantize.BitAllocation;
import io.evoc.coordinator.quantize.Codebook;
import io.evoc.coordinator.quantize.LayerOption;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.scoring.CandidateScorer;
import io.evoc.evaluator.scoring.CandidateScorer.Scores;
import io.evoc.evaluator.scoring.Layer;
import io.evoc.protocol.container.QuantizedTensor;
import io.evoc.protocol.container.TensorCoder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Finalization: quantizes the student's surviving weights (exactly, by per-layer bits, or by one
 * shared codebook), scores every Pareto point on the calibration batch, keeps the smallest within
 * the budget and leaves the student holding exactly the values the container will decode to.
 */
public final class Finalizer {
  /**
   * @param front ordered by bytes
   * @param chosen index into {@code front}
   * @param withinBudget false when no point met the budget and the closest was kept
   * @param variants per front point, its layers' tensors in the scorer's layer order
   */
  public record Result(List<FrontPoint> front, int chosen, boolean withinBudget, List<List<QuantizedTensor>> variants) {
    /** The chosen point's tensors. */
    public List<QuantizedTensor> tensors() {
      return variants.get(chosen);
    }
  }

  private final CandidateScorer scorer;
  private final ParameterTable student;
  private final int[] labels;
  private final FinalizeSettings settings;
  private final BooleanSupplier stop;
  private final List<Layer> layers;
  private final double teacherAccuracy;

  /** One point to score: every layer's tensor, and how each was quantized. */
  record Variant(List<QuantizedTensor> tensors, List<String> labels) {}

  /**
   * @param labels per sample of the scorer's batch, or null: the budget is then judged as lost
   *     agreement with the teacher
   * @param stop asked between generations of the searches: a stopped search keeps what it found
   */
  public Finalizer(CandidateScorer scorer, ParameterTable student, int[] labels, FinalizeSettings settings,
      BooleanSupplier stop) {
    if (labels != null && labels.length != scorer.samples()) {
      throw new IllegalArgumentException("calibration labels: " + labels.length + " for " + scorer.samples() + " samples");
    }
    this.scorer = scorer;
    this.student = student;
    this.labels = labels;
    this.settings = settings;
    this.stop = stop;
    this.layers = scorer.layers();
    this.teacherAccuracy = labels == null ? Double.NaN : accuracy(scorer.teacherTop1());
  }

  public Result run() {
    List<Variant> candidates = switch (settings.quantization()) {
      case LOSSLESS -> List.of(lossless());
      case BITS -> bits();
      case WEIGHT_SHARING -> WeightSharingSearch.run(scorer, student, settings, stop);
    };
    List<Variant> variants = new ArrayList<>();
    List<FrontPoint> front = new ArrayList<>();
    for (Variant v : candidates) {
      FrontPoint p = evaluate(v);
      front.add(p);
      variants.add(v);
    }
    nondominated(front, variants);
    int chosen = -1;
    for (int i = 0; i < front.size(); i++) {
      if (withinBudget(front.get(i)) && (chosen < 0 || front.get(i).bytes() < front.get(chosen).bytes())) {
        chosen = i;
      }
    }
    boolean within = chosen >= 0;
    if (!within) {
      chosen = 0;
      for (int i = 1; i < front.size(); i++) {
        if (front.get(i).divergence() < front.get(chosen).divergence()) {
          chosen = i;
        }
      }
    }
    apply(variants.get(chosen).tensors());
    return new Result(front, chosen, within, variants.stream().map(Variant::tensors).toList());
  }

  /**
   * Keeps the points no other beats in both bytes and divergence (the first of exact ties), ordered
   * by bytes: the searches hand over more than their front (weight sharing adds each merged point
   * next to the one it came from).
   */
  private static void nondominated(List<FrontPoint> front, List<Variant> variants) {
    Integer[] order = new Integer[front.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, java.util.Comparator.<Integer>comparingLong(i -> front.get(i).bytes())
        .thenComparingDouble(i -> front.get(i).divergence()).thenComparingInt(i -> i));
    List<FrontPoint> keptPoints = new ArrayList<>();
    List<Variant> keptVariants = new ArrayList<>();
    double best = Double.POSITIVE_INFINITY;
    for (int i : order) {
      // In order of bytes, a point is on the front when it beats every smaller one's divergence.
      if (front.get(i).divergence() < best) {
        best = front.get(i).divergence();
        keptPoints.add(front.get(i));
        keptVariants.add(variants.get(i));
      }
    }
    front.clear();
    front.addAll(keptPoints);
    variants.clear();
    variants.addAll(keptVariants);
  }

  /** Every layer's survivors kept bit for bit: the codebook is the layer's distinct values. */
  private Variant lossless() {
    List<QuantizedTensor> tensors = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    for (Layer l : layers) {
      float[] w = student.get(l.weight());
      float[] distinct = distinctNonZero(w);
      tensors.add(LayerOption.of(l.weight(), student.shape(l.weight()), w, new Codebook(distinct), null, 32).tensor());
      labels.add("exact/" + distinct.length);
    }
    return new Variant(tensors, labels);
  }

  private static float[] distinctNonZero(float[] w) {
    float[] v = new float[w.length];
    int n = 0;
    for (float x : w) {
      if (x != 0) {
        v[n++] = x;
      }
    }
    Arrays.sort(v, 0, n);
    int m = 0;
    for (int i = 0; i < n; i++) {
      if (m == 0 || v[i] != v[m - 1]) {
        v[m++] = v[i];
      }
    }
    return m == 0 ? new float[] {0f} : Arrays.copyOf(v, m);
  }

  private List<Variant> bits() {
    BitAllocation allocation = new BitAllocation(scorer, student, settings.seed());
    List<Variant> out = new ArrayList<>();
    for (BitAllocation.Choice c : allocation.front(settings.population(), settings.generations(), settings.seed(), stop)) {
      List<QuantizedTensor> tensors = new ArrayList<>();
      List<String> labels = new ArrayList<>();
      for (int l = 0; l < layers.size(); l++) {
        LayerOption o = allocation.option(l, c.option()[l]);
        tensors.add(o.tensor());
        labels.add(o.label());
      }
      out.add(new Variant(tensors, labels));
    }
    return out;
  }

  private FrontPoint evaluate(Variant variant) {
    List<float[]> before = new ArrayList<>();
    for (Layer l : layers) {
      before.add(student.get(l.weight()));
    }
    apply(variant.tensors());
    Scores s = scorer.scoreStudent();
    double drop = labels == null ? 100 * (1 - s.agreement()[0]) : teacherAccuracy - accuracy(scorer.studentTop1());
    for (int l = 0; l < layers.size(); l++) {
      student.set(layers.get(l).weight(), before.get(l));
    }
    long bytes = 0;
    for (QuantizedTensor t : variant.tensors()) {
      bytes += TensorCoder.encode(t).getSerializedSize();
    }
    return new FrontPoint(bytes, s.divergence()[0], s.agreement()[0], drop, variant.labels(), Double.NaN);
  }

  private void apply(List<QuantizedTensor> variant) {
    for (QuantizedTensor t : variant) {
      student.set(t.name(), t.values());
    }
  }

  private boolean withinBudget(FrontPoint p) {
    return Double.isNaN(settings.maxDivergence()) ? p.accuracyDrop() <= settings.maxAccuracyDrop()
        : p.divergence() <= settings.maxDivergence();
  }

  /** Percent of samples whose top-1 class is the label. */
  private double accuracy(int[] top1) {
    int correct = 0;
    for (int i = 0; i < labels.length; i++) {
      correct += top1[i] == labels[i] ? 1 : 0;
    }
    return 100.0 * correct / labels.length;
  }
}
