package io.evoc.coordinator.search;

import io.evoc.protocol.search.TraceRecord;

/**
 * One commit of the search, or a distillation during it.
 *
 * @param cycle 1-based cycle number
 * @param layer the weight committed to; {@value #ALL_LAYERS} for a distillation
 * @param committed weights zeroed by this commit
 * @param restored pruned weights given back by it (a swap of the refinement), otherwise 0
 * @param distilled epochs of distillation this entry records (then nothing was committed), otherwise 0
 * @param layerSparsity the layer's sparsity after it
 * @param sparsity overall sparsity of all prunable layers after it
 * @param divergence the student's divergence after it (and after any refit)
 * @param agreement the student's top-1 agreement with the teacher (NaN under MSE)
 * @param elapsedMillis since the search started
 * @param candidatesScored candidates scored so far
 */
public record TraceEntry(int cycle, String layer, int committed, int restored, int distilled, double layerSparsity,
    double sparsity, float divergence, float agreement, long elapsedMillis, long candidatesScored) {
  public static final String ALL_LAYERS = "*";

  /** As checkpoints and the server's job history keep it. */
  public TraceRecord toRecord() {
    return TraceRecord.newBuilder().setCycle(cycle).setLayer(layer).setCommitted(committed).setRestored(restored)
        .setDistilled(distilled).setLayerSparsity(layerSparsity).setSparsity(sparsity).setDivergence(divergence)
        .setAgreement(agreement).setElapsedMillis(elapsedMillis).setCandidatesScored(candidatesScored).build();
  }

  public static TraceEntry of(TraceRecord r) {
    return new TraceEntry(r.getCycle(), r.getLayer(), r.getCommitted(), r.getRestored(), r.getDistilled(),
        r.getLayerSparsity(), r.getSparsity(), r.getDivergence(), r.getAgreement(), r.getElapsedMillis(),
        r.getCandidatesScored());
  }
}
