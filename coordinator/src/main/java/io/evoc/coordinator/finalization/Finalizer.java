package io.evoc.coordinator.finalization;

import io.evoc.coordinator.finalization.FinalizeSettings.Quantization;
import io.evoc.coordinator.quantize.BitAllocation;
import io.evoc.coordinator.quantize.GridParameters;
import io.evoc.coordinator.quantize.LayerOption;
import io.evoc.evaluator.engine.HostTensor;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.scoring.CandidateScorer;
import io.evoc.evaluator.scoring.StudentScoring;
import io.evoc.evaluator.scoring.Distillation;
import io.evoc.evaluator.scoring.Layer;
import io.evoc.protocol.container.QuantizedTensor;
import io.evoc.protocol.container.ModelPacking;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Finalization: puts the parameters outside the layers on grids ({@link GridParameters}), quantizes
 * the student's surviving weights (exactly, by per-layer bits, or by one shared codebook), scores
 * every Pareto point on the calibration batch, keeps the smallest within the budget and leaves the
 * student holding exactly the values the container will decode to.
 */
public final class Finalizer {
  /**
   * @param front ordered by bytes
   * @param chosen index into {@code front}
   * @param withinBudget false when no point met the budget and the closest was kept
   * @param variants per front point, its layers' tensors in the scorer's layer order
   * @param grids the other parameters put on grids before the search, the same at every point
   */
  public record Result(List<FrontPoint> front, int chosen, boolean withinBudget, List<List<QuantizedTensor>> variants,
      List<QuantizedTensor> grids) {
    /** The chosen point's layer tensors. */
    public List<QuantizedTensor> tensors() {
      return variants.get(chosen);
    }

    /** Everything the container codes: the chosen point's layers, then the grids. */
    public List<QuantizedTensor> coded() {
      List<QuantizedTensor> all = new ArrayList<>(tensors());
      all.addAll(grids);
      return all;
    }
  }

  private final CandidateScorer scorer;
  private final ParameterTable student;
  /** Where points are scored: in process, or by the cluster's evaluators. */
  private final StudentScoring points;
  private final BudgetJudge judge;
  private final FinalizeSettings settings;
  private final BooleanSupplier stop;
  private final List<Layer> layers;
  private final HostTensor tuneInputs;
  /** Points tried below the chosen one when tuning codebooks, and how far outside the budget they may start. */
  private static final int TUNE_TRIES = 3;
  private static final double TUNE_SLACK = 1.5;
  private static final int TUNE_BATCH = 128;
  private static final float TUNE_LEARNING_RATE = 1e-4f;

  /** One point to score: every layer's tensor, and how each was quantized. */
  record Variant(List<QuantizedTensor> tensors, List<String> labels) {}

  /**
   * @param points scores the student with layers replaced: {@link StudentScoring#local} on
   *     {@code scorer}, or a cluster's evaluators
   * @param judge measures each front point's calibration accuracy drop, which the budget is judged on
   * @param tuneInputs all calibration inputs, on which codebooks are tuned; null: no tuning
   * @param stop asked between generations of the searches: a stopped search keeps what it found
   */
  public Finalizer(CandidateScorer scorer, ParameterTable student, StudentScoring points, BudgetJudge judge,
      HostTensor tuneInputs, FinalizeSettings settings, BooleanSupplier stop) {
    this.scorer = scorer;
    this.student = student;
    this.points = points;
    this.judge = judge;
    this.settings = settings;
    this.stop = stop;
    this.tuneInputs = tuneInputs;
    this.layers = scorer.layers();
  }

  public Result run() {
    // First, so that every point is scored with the parameters as the container will hold them.
    List<QuantizedTensor> grids = settings.quantization() == Quantization.LOSSLESS ? List.of()
        : GridParameters.quantize(scorer, student);
    List<Variant> candidates = switch (settings.quantization()) {
      case LOSSLESS -> List.of(lossless());
      case BITS -> bits();
      case WEIGHT_SHARING -> WeightSharingSearch.run(scorer, student, points, settings, stop);
    };
    List<Variant> variants = new ArrayList<>(candidates);
    List<FrontPoint> front = evaluate(candidates);
    nondominated(front, variants);
    for (int i = 0; i < front.size(); i++) {
      front.set(i, judged(front.get(i), variants.get(i)));
    }
    int chosen = choose(front);
    if (settings.quantization() != Quantization.LOSSLESS && tuneInputs != null && settings.codebookEpochs() > 0) {
      chosen = tuneToBudget(front, variants, chosen);
    }
    values(variants.get(chosen).tensors()).forEach(student::set);
    front.set(chosen, rescored(front.get(chosen)));
    return new Result(front, chosen, withinBudget(front.get(chosen)),
        variants.stream().map(Variant::tensors).toList(), grids);
  }

  /** The smallest point within the budget; when none is, the one with the lowest divergence. */
  private int choose(List<FrontPoint> front) {
    int chosen = -1;
    for (int i = 0; i < front.size(); i++) {
      if (withinBudget(front.get(i)) && (chosen < 0 || front.get(i).bytes() < front.get(chosen).bytes())) {
        chosen = i;
      }
    }
    if (chosen < 0) {
      chosen = 0;
      for (int i = 1; i < front.size(); i++) {
        if (front.get(i).divergence() < front.get(chosen).divergence()) {
          chosen = i;
        }
      }
    }
    return chosen;
  }

  /**
   * Codebook tuning (Deep Compression's centroid fine-tuning, by distillation instead of labels)
   * can bring a point that misses the budget within it; a shared codebook is tuned as one and stays
   * shared. Tries the few smallest points that miss it by less than {@value #TUNE_SLACK} points of
   * accuracy (or twice the divergence), then the chosen point; keeps the first tuned point within
   * the budget. Each tried point is replaced by its tuned version when tuning lowered its divergence.
   *
   * @return the index of the point to keep
   */
  private int tuneToBudget(List<FrontPoint> front, List<Variant> variants, int chosen) {
    List<Integer> tries = new ArrayList<>();
    for (int i = 0; i < front.size() && tries.size() < TUNE_TRIES; i++) {
      if (front.get(i).bytes() < front.get(chosen).bytes() && nearBudget(front.get(i))) {
        tries.add(i);
      }
    }
    tries.add(chosen);
    for (int i : tries) {
      if (stop.getAsBoolean()) {
        break;
      }
      Variant tuned = tuned(variants.get(i));
      FrontPoint p = judged(evaluate(List.of(tuned)).get(0), tuned);
      if (p.divergence() < front.get(i).divergence()) {
        front.set(i, p.asTuned());
        variants.set(i, tuned);
      }
      if (withinBudget(front.get(i))) {
        return i;
      }
    }
    return chosen;
  }

  private boolean nearBudget(FrontPoint p) {
    return Double.isNaN(settings.maxDivergence()) ? p.accuracyDrop() <= settings.maxAccuracyDrop() + TUNE_SLACK
        : p.divergence() <= 2 * settings.maxDivergence();
  }

  /** The variant with every layer's codebook tuned by distillation on all calibration inputs. */
  private Variant tuned(Variant v) {
    Map<String, QuantizedTensor> byName = new LinkedHashMap<>();
    for (QuantizedTensor t : v.tensors()) {
      byName.put(t.name(), t);
    }
    Map<String, float[]> levels = student.with(values(v.tensors()), () -> Distillation.tuneCodebooks(scorer.model(),
        student, byName, tuneInputs, scorer.device(), settings.codebookEpochs(), TUNE_BATCH, TUNE_LEARNING_RATE,
        settings.seed()));
    List<QuantizedTensor> tensors = new ArrayList<>();
    for (QuantizedTensor t : v.tensors()) {
      tensors.add(withLevels(t, levels.get(t.name())));
    }
    return new Variant(tensors, v.labels());
  }

  /** The tensor with new levels, sorted ascending as the container keeps them, indices remapped. */
  private static QuantizedTensor withLevels(QuantizedTensor t, float[] levels) {
    Integer[] order = new Integer[levels.length];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, java.util.Comparator.<Integer>comparingDouble(i -> levels[i]).thenComparingInt(i -> i));
    float[] sorted = new float[levels.length];
    int[] rank = new int[levels.length];
    for (int r = 0; r < order.length; r++) {
      sorted[r] = levels[order[r]];
      rank[order[r]] = r;
    }
    int[] index = t.index().clone();
    for (int i = 0; i < index.length; i++) {
      if (index[i] != QuantizedTensor.PRUNED) {
        index[i] = rank[index[i]];
      }
    }
    return new QuantizedTensor(t.name(), t.shape(), sorted, index);
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
      LayerOption o = LayerOption.exact(l.weight(), student.shape(l.weight()), student.get(l.weight()));
      tensors.add(o.tensor());
      labels.add(o.label());
    }
    return new Variant(tensors, labels);
  }

  private List<Variant> bits() {
    BitAllocation allocation = new BitAllocation(scorer, student, points, settings.seed());
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

  /**
   * The chosen point as this process's scorer measures it, on the student now holding its values:
   * what the container records. The same as the search's figure, bit for bit, when that came from
   * this scorer; an evaluator's may differ in the last bit (open: README, "Server"), which then stays
   * out of the artifact.
   */
  private FrontPoint rescored(FrontPoint p) {
    StudentScoring.Point s = scorer.scorePoint();
    return new FrontPoint(p.bytes(), s.divergence(), s.agreement(), p.accuracyDrop(), p.layers(), p.tuned(),
        p.testAccuracy());
  }

  /** The point with its accuracy drop as the judge measures it. */
  private FrontPoint judged(FrontPoint p, Variant v) {
    return p.withAccuracyDrop(judge.accuracyDrop(values(v.tensors())));
  }

  /** The variants scored together (a cluster spreads them over its evaluators), in order; not yet judged. */
  private List<FrontPoint> evaluate(List<Variant> variants) {
    List<StudentScoring.Point> scores = points.scoreAll(variants.stream().map(v -> values(v.tensors())).toList());
    List<FrontPoint> out = new ArrayList<>();
    for (int i = 0; i < variants.size(); i++) {
      Variant v = variants.get(i);
      StudentScoring.Point s = scores.get(i);
      out.add(new FrontPoint(ModelPacking.codedBytes(v.tensors()), s.divergence(), s.agreement(), Double.NaN,
          v.labels(), false, Double.NaN));
    }
    return out;
  }

  /** The weights a variant's tensors decode to, by name. */
  private static Map<String, float[]> values(List<QuantizedTensor> tensors) {
    Map<String, float[]> values = new LinkedHashMap<>();
    for (QuantizedTensor t : tensors) {
      values.put(t.name(), t.values());
    }
    return values;
  }

  private boolean withinBudget(FrontPoint p) {
    return Double.isNaN(settings.maxDivergence()) ? p.accuracyDrop() <= settings.maxAccuracyDrop()
        : p.divergence() <= settings.maxDivergence();
  }
}
