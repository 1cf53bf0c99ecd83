package io.evoc.coordinator.search;

import java.time.Duration;
import java.util.Map;

/**
 * What a sparsification job is asked to do.
 *
 * @param sparsity overall weight sparsity over all prunable layers, split by measured sensitivity;
 *     NaN when only {@code layerGoals} are given
 * @param layerGoals per-layer goals by weight name (or the name of the node that multiplies by it); they
 *     override the split for those layers
 * @param population candidates per generation
 * @param generations generations per cycle (one commit per cycle)
 * @param step largest fraction of a layer committed in one cycle; it shrinks as divergence rises
 * @param swaps most swap attempts of the refinement once the goal is reached (0: none)
 * @param timeBudget wall-clock limit, or null
 * @param divergenceBudget the search stops before a commit would push divergence past this
 * @param refitIterations conjugate-gradient steps of each least-squares refit
 */
public record SearchSettings(
    double sparsity,
    Map<String, Double> layerGoals,
    Method method,
    int population,
    int generations,
    double step,
    int swaps,
    Repair repair,
    int distillEpochs,
    Duration timeBudget,
    double divergenceBudget,
    long seed,
    int refitIterations) {

  public enum Method { DE, MAGNITUDE }

  public enum Repair { NONE, LS, DISTILL }

  public SearchSettings {
    layerGoals = Map.copyOf(layerGoals);
    if (Double.isNaN(sparsity) && layerGoals.isEmpty()) {
      throw new IllegalArgumentException("give --sparsity or --layer-sparsity");
    }
    if (!Double.isNaN(sparsity) && !(sparsity > 0 && sparsity < 1)) {
      throw new IllegalArgumentException("--sparsity " + sparsity + ": expected a fraction in (0, 1)");
    }
    layerGoals.forEach((name, goal) -> {
      if (!(goal >= 0 && goal < 1)) {
        throw new IllegalArgumentException("--layer-sparsity " + name + "=" + goal + ": expected a fraction in [0, 1)");
      }
    });
    // Upper bounds too: a server takes these from clients, and a population of a billion is a typo.
    Ranges.check("--population", population, 2, 10_000);
    Ranges.check("--generations", generations, 1, 1_000);
    Ranges.check("--swaps", swaps, 0, 1_000_000);
    Ranges.check("--distill-epochs", distillEpochs, 0, 1_000);
    if (refitIterations < 1) {
      throw new IllegalArgumentException("refit iterations must be >= 1, got " + refitIterations);
    }
    if (!(step > 0 && step <= 0.5)) {
      throw new IllegalArgumentException("--step " + step + ": expected a fraction in (0, 0.5]");
    }
    if (!(divergenceBudget > 0)) {
      throw new IllegalArgumentException("--divergence-budget " + divergenceBudget + ": expected a positive number");
    }
  }
}
