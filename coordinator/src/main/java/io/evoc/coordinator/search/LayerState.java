package io.evoc.coordinator.search;

import io.evoc.evaluator.scoring.Layer;

/** One layer during the search: its committed mask, its goal, and what evaluations taught about it. */
final class LayerState {
  final Layer layer;
  final int size;
  final boolean[] zeroed;
  int zeros;
  int goalZeros;
  /** Per weight: mean standardized fitness of the scored candidates it was in (high: harmful). */
  final float[] harm;
  /** Per weight: how many candidates (decayed) that mean is over. */
  final float[] seen;
  /** The same two for candidates that restore pruned weights (refinement). */
  final float[] restoreHarm;
  final float[] restoreSeen;
  /** The weights as the search found them: what a restored weight goes back to. */
  final float[] original;

  LayerState(Layer layer, float[] weights) {
    this.layer = layer;
    this.size = Math.toIntExact(layer.size());
    this.zeroed = new boolean[size];
    this.harm = new float[size];
    this.seen = new float[size];
    this.restoreHarm = new float[size];
    this.restoreSeen = new float[size];
    this.original = weights.clone();
    for (int i = 0; i < size; i++) {
      if (weights[i] == 0) {
        zeroed[i] = true;
        zeros++;
      }
    }
  }

  double sparsity() {
    return (double) zeros / size;
  }

  boolean done() {
    return zeros >= goalZeros;
  }

  /** Progress toward the goal, 1 when there is nothing to do. */
  double progress() {
    return goalZeros == 0 ? 1 : Math.min(1, (double) zeros / goalZeros);
  }

  void commit(int[] indices) {
    for (int i : indices) {
      if (!zeroed[i]) {
        zeroed[i] = true;
        zeros++;
      }
    }
  }

  void restore(int[] indices) {
    for (int i : indices) {
      if (zeroed[i]) {
        zeroed[i] = false;
        zeros--;
      }
    }
  }

  /** Pruned indices whose original value is not zero (those a restore changes), in index order. */
  int[] restorable() {
    int n = 0;
    for (int i = 0; i < size; i++) {
      if (zeroed[i] && original[i] != 0) {
        n++;
      }
    }
    int[] out = new int[n];
    n = 0;
    for (int i = 0; i < size; i++) {
      if (zeroed[i] && original[i] != 0) {
        out[n++] = i;
      }
    }
    return out;
  }

  /** Surviving indices, in index order. */
  int[] survivors() {
    int[] out = new int[size - zeros];
    int n = 0;
    for (int i = 0; i < size; i++) {
      if (!zeroed[i]) {
        out[n++] = i;
      }
    }
    return out;
  }

  /** Between cycles older evidence counts half: the student it was measured on has moved. */
  void decayEvidence() {
    for (int i = 0; i < size; i++) {
      harm[i] *= 0.5f;
      seen[i] *= 0.5f;
      restoreHarm[i] *= 0.5f;
      restoreSeen[i] *= 0.5f;
    }
  }
}
