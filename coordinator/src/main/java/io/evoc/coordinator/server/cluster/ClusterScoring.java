package io.evoc.coordinator.server.cluster;

import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.scoring.CandidateScorer;
import io.evoc.evaluator.scoring.CandidateScorer.Scores;
import io.evoc.evaluator.scoring.CandidateScoring;
import io.evoc.evaluator.scoring.Layer;
import io.evoc.evaluator.scoring.StudentScoring;
import io.evoc.evaluator.cluster.Candidates;
import io.evoc.evaluator.cluster.EvaluatorActor;
import io.evoc.evaluator.cluster.StudentPoints;
import io.evoc.protocol.cluster.ScoringContext;
import io.evoc.protocol.cluster.StudentPoint;
import io.evoc.protocol.cluster.WorkResult;
import io.evoc.protocol.cluster.WorkUnit;
import io.evoc.protocol.model.OnnxModel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * A job's populations, and its finalizer's student points, scored by the cluster's evaluators. A
 * population is cut into work units on the boundaries of the stacks one process would score
 * ({@link CandidateScorer#stackSize}), so the scores, and so the job's result, are the same bit for
 * bit with one evaluator, three, or none but the command line's own scorer. Each unit names the
 * committed student by the SHA-256 of a blob published when the student changes; evaluators fetch
 * it once.
 */
public final class ClusterScoring implements CandidateScoring, StudentScoring {
  /** Units hold at least this many candidates where stacks are smaller (a stack of 1 for some graphs). */
  static final int MIN_UNIT = 2;
  /** Student points per unit are held to these: weights out, top-1 classes (samples each) back. */
  private static final long MAX_UNIT_BYTES = 16L << 20;
  private static final int MAX_RESULT_CLASSES = 32_768;

  private final String job;
  private final WorkQueue queue;
  private final CandidateScorer local;
  private final OnnxModel teacher;
  private final ParameterTable student;
  private final ScoringContext.Builder context;
  private final Function<byte[], String> publish;
  private final BooleanSupplier cancelled;
  private long publishedRevision = -1;
  /** The last preparation sent: the layer and the student's revision. */
  private String preparedLayer;
  private long preparedRevision = -1;
  /** The teacher's weights, decoded once per layer: restores are checked against them every generation. */
  private final Map<String, float[]> teacherWeights = new java.util.HashMap<>();

  /**
   * @param context the job's context without the student: job id, blob URL, model, batch, metric
   * @param publish stores bytes as a blob the evaluators can fetch; returns its SHA-256
   * @param cancelled stops the wait for evaluators (there may be none yet)
   */
  public ClusterScoring(String job, WorkQueue queue, CandidateScorer local, OnnxModel teacher,
      ParameterTable student, ScoringContext context, Function<byte[], String> publish, BooleanSupplier cancelled) {
    this.job = job;
    this.queue = queue;
    this.local = local;
    this.teacher = teacher;
    this.student = student;
    this.context = context.toBuilder();
    this.publish = publish;
    this.cancelled = cancelled;
  }

  @Override
  public Scores score(Layer layer, List<int[]> candidates, float[] values) {
    boolean restore = values != null;
    if (restore && !Arrays.equals(values, teacherWeights.computeIfAbsent(layer.weight(), teacher::floats))) {
      throw new IllegalStateException(layer.weight() + ": the cluster restores weights to the teacher's values only");
    }
    publishStudent();
    int n = candidates.size();
    List<Integer> sizes = unitSizes(n, local.stackSize(layer, n), Math.max(1, queue.evaluatorCount()),
        queue.evaluatorsAlike());
    // Each unit is queued as soon as it is encoded: the evaluators score the first ones meanwhile.
    List<CompletableFuture<WorkResult>> results = new ArrayList<>(sizes.size());
    int from = 0;
    for (int size : sizes) {
      WorkUnit.Builder u = WorkUnit.newBuilder().setUnitId(queue.nextId(job)).setContext(context)
          .setLayer(layer.weight()).setRestore(restore);
      for (int[] c : candidates.subList(from, from + size)) {
        u.addCandidates(Candidates.encode(c));
      }
      results.add(queue.submit(u.build()));
      from += size;
    }
    float[] divergence = new float[n];
    float[] agreement = new float[n];
    int at = 0;
    for (CompletableFuture<WorkResult> f : results) {
      WorkResult r = await(f);
      for (int i = 0; i < r.getDivergenceCount(); i++, at++) {
        divergence[at] = r.getDivergence(i);
        agreement[at] = r.getAgreement(i);
      }
    }
    if (at != n) {
      throw new IllegalStateException("the evaluators scored " + at + " of " + n + " candidates");
    }
    return new Scores(divergence, agreement);
  }

  /**
   * Student points (the finalizer's), spread over the evaluators as a population is: each point is
   * a forward pass of its own, so how they are grouped into units changes no score.
   */
  @Override
  public List<StudentScoring.Point> scoreAll(List<Map<String, float[]>> points) {
    publishStudent();
    int n = points.size();
    int spread = spread();
    int unit = (n + spread - 1) / spread;
    // Also few enough that a unit stays well inside remoting's frames: its weights on the way out
    // (the large-message lane), its top-1 classes on the way back (the ordinary one).
    unit = Math.min(unit, Math.max(1, MAX_RESULT_CLASSES / local.samples()));
    List<WorkUnit> units = new ArrayList<>();
    WorkUnit.Builder u = null;
    long bytes = 0;
    for (Map<String, float[]> p : points) {
      StudentPoint encoded = StudentPoints.encode(p);
      if (u != null && (u.getPointsCount() == unit || bytes + encoded.getSerializedSize() > MAX_UNIT_BYTES)) {
        units.add(u.build());
        u = null;
      }
      if (u == null) {
        u = WorkUnit.newBuilder().setUnitId(queue.nextId(job)).setContext(context);
        bytes = 0;
      }
      u.addPoints(encoded);
      bytes += encoded.getSerializedSize();
    }
    if (u != null) {
      units.add(u.build());
    }
    List<StudentScoring.Point> out = new ArrayList<>(n);
    for (CompletableFuture<WorkResult> f : queue.submit(units)) {
      WorkResult r = await(f);
      if (r.getTop1Count() != r.getDivergenceCount()) {
        throw new IllegalStateException("unit " + r.getUnitId() + ": " + r.getDivergenceCount() + " scores but "
            + r.getTop1Count() + " top-1 lists");
      }
      for (int i = 0; i < r.getDivergenceCount(); i++) {
        out.add(new StudentScoring.Point(r.getDivergence(i), r.getAgreement(i),
            r.getTop1(i).getClassesList().stream().mapToInt(Integer::intValue).toArray()));
      }
    }
    if (out.size() != n) {
      throw new IllegalStateException("the evaluators scored " + out.size() + " of " + n + " student points");
    }
    return out;
  }

  /** Every evaluator fetches the student and builds the layer's cache while the search estimates its prior. */
  @Override
  public void prepare(Layer layer) {
    publishStudent();
    if (layer.weight().equals(preparedLayer) && publishedRevision == preparedRevision) {
      return; // asked again for the same student and layer: the evaluators have it in hand
    }
    preparedLayer = layer.weight();
    preparedRevision = publishedRevision;
    queue.broadcast(WorkUnit.newBuilder().setUnitId(queue.nextId(job)).setContext(context).setLayer(layer.weight())
        .build());
  }

  /**
   * How a population of n is cut into units, in candidates: whole stacks, so that scores stay those
   * of one process. Evaluators pull units as they finish them.
   *
   * <p>Several evaluators that are {@code alike} (see {@link WorkQueue#evaluatorsAlike}) take equal
   * shares: {@link EvaluatorActor#IN_FLIGHT} units each, as even as whole stacks allow, so each
   * holds the next while it scores one. Every unit costs messages and thread wake-ups on every node
   * it passes, whose CPU the scoring threads lose where the nodes share cores: two evaluators on a
   * 2-core machine, one job after the cluster started, spent about a fifth less time per candidate
   * with these four units per population than with the eleven below.
   *
   * <p>Otherwise (one evaluator, or a mix of devices whose speeds differ) each evaluator's first
   * unit is small, so that scoring starts at once; each round of units after that doubles, so that
   * the next unit is encoded and on the wire before the one ahead of it is scored. With more than
   * one evaluator the sizes are also held to a share of what is left (guided self-scheduling), small
   * at the end so that a fast device takes more of them and the evaluators finish together.
   */
  static List<Integer> unitSizes(int n, int stack, int evaluators, boolean alike) {
    if (evaluators > 1 && alike) {
      return equalUnits(n, stack, EvaluatorActor.IN_FLIGHT * evaluators);
    }
    int least = (MIN_UNIT + stack - 1) / stack; // in stacks
    List<Integer> sizes = new ArrayList<>();
    for (int from = 0, left = (n + stack - 1) / stack; left > 0; ) {
      long ramp = (long) least << Math.min(30, sizes.size() / evaluators);
      int guided = evaluators == 1 ? left : Math.max(least, (left + 2 * evaluators - 1) / (2 * evaluators));
      int take = (int) Math.min(left, Math.min(ramp, guided));
      int size = Math.min(n - from, take * stack); // the last stack may be short
      sizes.add(size);
      from += size;
      left -= take;
    }
    return sizes;
  }

  /**
   * n in at most {@code units} units of whole stacks (the last stack may be short), the larger
   * first, each of at least {@link #MIN_UNIT} candidates where the population allows.
   */
  private static List<Integer> equalUnits(int n, int stack, int units) {
    int stacks = (n + stack - 1) / stack;
    int count = Math.max(1, Math.min(units, stacks / ((MIN_UNIT + stack - 1) / stack)));
    List<Integer> sizes = new ArrayList<>(count);
    for (int u = 0, from = 0; u < count; u++) {
      int size = Math.min(n - from, (stacks / count + (u < stacks % count ? 1 : 0)) * stack);
      sizes.add(size);
      from += size;
    }
    return sizes;
  }

  /** How many units a set of student points is cut into, at most: two per evaluator, one scoring while the next waits. */
  private int spread() {
    return Math.max(1, EvaluatorActor.IN_FLIGHT * queue.evaluatorCount());
  }

  private void publishStudent() {
    if (student.revision() != publishedRevision) {
      context.setStudentSha256(publish.apply(teacher.withWeights(student.snapshot()).toBytes()));
      publishedRevision = student.revision();
    }
  }

  private WorkResult await(CompletableFuture<WorkResult> f) {
    while (true) {
      try {
        return f.get(1, TimeUnit.SECONDS);
      } catch (TimeoutException e) {
        if (cancelled.getAsBoolean()) {
          throw new CancellationException("cancelled while waiting for evaluators");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted waiting for the evaluators", e);
      } catch (ExecutionException e) {
        throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
      }
    }
  }
}
