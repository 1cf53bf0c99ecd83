package io.evoc.evaluator.cluster;

import ai.djl.Device;
import io.evoc.evaluator.engine.Engines;
import io.evoc.evaluator.graph.ParameterTable;
import io.evoc.evaluator.scoring.CandidateScorer;
import io.evoc.evaluator.scoring.CandidateScorer.Scores;
import io.evoc.evaluator.scoring.Layer;
import io.evoc.evaluator.scoring.Metric;
import io.evoc.evaluator.scoring.StudentScoring;
import io.evoc.protocol.cluster.StudentPoint;
import io.evoc.protocol.cluster.Candidate;
import io.evoc.protocol.cluster.ScoringContext;
import io.evoc.protocol.cluster.Tensor;
import io.evoc.protocol.cluster.WorkUnit;
import io.evoc.protocol.model.OnnxModel;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * An evaluator's copy of one job: the teacher, the scoring batch and a student kept at the
 * coordinator's committed version, with a {@link CandidateScorer} over them. Built from the blobs
 * its context names; a new student version replaces the student's weights (the scorer's caches
 * follow the table's revision).
 */
final class JobReplica implements AutoCloseable {
  private final ScoringContext context;
  private final OnnxModel teacher;
  private final ParameterTable student;
  private final CandidateScorer scorer;
  private String studentSha256 = "";
  /** The teacher's weights a restore sets, decoded once per layer rather than once per unit. */
  private final java.util.Map<String, float[]> teacherWeights = new java.util.HashMap<>();

  JobReplica(ScoringContext context, BlobFetcher blobs, Device device) throws IOException {
    this.context = context;
    teacher = OnnxModel.parse(blobs.get(context.getBlobUrl(), context.getModelSha256()), "job " + context.getJobId());
    student = ParameterTable.of(teacher);
    var batch = TensorMessages.decode(Tensor.parseFrom(blobs.get(context.getBlobUrl(), context.getBatchSha256())));
    scorer = new CandidateScorer(teacher, student, device, batch, Metric.parse(context.getMetric(), teacher));
  }

  /** Whether this replica serves units of {@code other}: the same job, model, batch and metric. */
  boolean serves(ScoringContext other) {
    return other.getJobId().equals(context.getJobId()) && other.getModelSha256().equals(context.getModelSha256())
        && other.getBatchSha256().equals(context.getBatchSha256()) && other.getMetric().equals(context.getMetric());
  }

  Scores score(WorkUnit unit, BlobFetcher blobs) throws IOException {
    Layer layer = sync(unit, blobs);
    if (layer == null) {
      throw new IllegalArgumentException("unit " + unit.getUnitId() + " has candidates but names no layer");
    }
    List<int[]> candidates = new ArrayList<>(unit.getCandidatesCount());
    for (Candidate c : unit.getCandidatesList()) {
      candidates.add(Candidates.decode(c, layer.size()));
    }
    return scorer.score(layer, candidates,
        unit.getRestore() ? teacherWeights.computeIfAbsent(layer.weight(), teacher::floats) : null);
  }

  /** A unit of student points: each scored on the student at the unit's version with its weights replaced. */
  List<StudentScoring.Point> scorePoints(WorkUnit unit, BlobFetcher blobs) throws IOException {
    sync(unit, blobs);
    List<java.util.Map<String, float[]>> points = new ArrayList<>(unit.getPointsCount());
    for (StudentPoint p : unit.getPointsList()) {
      java.util.Map<String, float[]> replaced = StudentPoints.decode(p);
      for (java.util.Map.Entry<String, float[]> r : replaced.entrySet()) {
        if (!student.contains(r.getKey()) || student.get(r.getKey()).length != r.getValue().length) {
          throw new IllegalArgumentException("unit " + unit.getUnitId() + ": no weight '" + r.getKey() + "' of "
              + r.getValue().length + " values in the student");
        }
      }
      points.add(replaced);
    }
    return StudentScoring.local(scorer, student).scoreAll(points);
  }

  /** The student at the unit's version and the layer's cache built, before any candidate comes. */
  void prepare(WorkUnit unit, BlobFetcher blobs) throws IOException {
    scorer.score(sync(unit, blobs), List.of(), null);
  }

  /** Brings the student to the unit's version; the unit's layer. */
  private Layer sync(WorkUnit unit, BlobFetcher blobs) throws IOException {
    Engines.inferenceThread(); // an actor runs on whichever dispatcher thread is free
    String sha = unit.getContext().getStudentSha256();
    if (!sha.equals(studentSha256)) {
      OnnxModel committed = OnnxModel.parse(blobs.get(context.getBlobUrl(), sha), "student " + sha);
      // Every parameter, not only the layers' weights: finalization puts the biases on grids.
      for (String name : student.names()) {
        float[] w = committed.floats(name);
        if (!java.util.Arrays.equals(w, student.get(name))) {
          student.set(name, w);
        }
      }
      studentSha256 = sha;
    }
    return unit.getLayer().isEmpty() ? null : scorer.layer(unit.getLayer());
  }

  @Override
  public void close() {
    scorer.close();
  }
}
