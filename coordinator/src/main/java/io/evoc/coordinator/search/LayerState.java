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

  LayerState(Layer layer, float[] weights) {
    this.layer = layer;
    this.size = Math.toIntExact(layer.size());
    this.zeroed = new boolean[size];
    this.harm = new float[size];
    this.seen = new float[size];
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

  /** Estimated harm of a weight, 0 when no candidate held it yet. */
  float harmOf(int i) {
    return seen[i] > 0 ? harm[i] / seen[i] : 0f;
  }

  /** Between cycles older evidence counts half: the student it was measured on has moved. */
  void decayEvidence() {
    for (int i = 0; i < size; i++) {
      harm[i] *= 0.5f;
      seen[i] *= 0.5f;
    }
  }
}
