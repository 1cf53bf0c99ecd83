package io.evoc.coordinator.search;

/**
 * One generation of a cycle's evolution, as the server streams it.
 *
 * @param cycle the cycle the generation belongs to (the commit it leads to has this number)
 * @param generation 0 for a cycle's first
 * @param bestDivergence the fittest candidate so far in this cycle
 * @param candidates candidates scored in this generation
 * @param scoringNanos the time they took to score
 * @param candidatesScored all candidates scored by the search so far
 */
public record Generation(int cycle, String layer, int generation, float bestDivergence, int candidates,
    long scoringNanos, long elapsedMillis, long candidatesScored) {}
