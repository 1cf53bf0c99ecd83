package io.evoc.coordinator.server.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How the cluster cuts a population into work units (the units themselves run in the tests module). */
class UnitSizesTest {
  @Test
  void unitsCoverThePopulationInWholeStacks() {
    for (int n : new int[] {1, 2, 7, 52, 64, 333}) {
      for (int stack : new int[] {1, 3, 4, 32, 500}) {
        for (int evaluators = 1; evaluators <= 4; evaluators++) {
          for (boolean alike : new boolean[] {false, true}) {
            List<Integer> sizes = ClusterScoring.unitSizes(n, stack, evaluators, alike);
            assertEquals(n, sizes.stream().mapToInt(Integer::intValue).sum(), n + "/" + stack + "/" + evaluators);
            int from = 0;
            for (int size : sizes) {
              assertEquals(0, from % stack, "a unit starts on a stack boundary: " + sizes);
              assertTrue(size > 0 && (size % stack == 0 || from + size == n), "whole stacks: " + sizes);
              from += size;
            }
          }
        }
      }
    }
  }

  @Test
  void eachEvaluatorStartsSmallTheSizesDoubleAndTheTailShrinks() {
    // MLP fc1: stacks of 1, a population of 52, two evaluators of different devices.
    List<Integer> sizes = ClusterScoring.unitSizes(52, 1, 2, false);
    assertEquals(List.of(2, 2, 4, 4, 8, 8), sizes.subList(0, 6), "each round of units doubles: " + sizes);
    for (int i = 7; i < sizes.size(); i++) {
      assertTrue(sizes.get(i) <= sizes.get(i - 1), "non-increasing once the share of what is left is smaller: " + sizes);
    }
    assertTrue(sizes.get(sizes.size() - 1) <= ClusterScoring.MIN_UNIT, "a small last unit: " + sizes);
    // One evaluator has no one to finish with: the doubling runs until the population is out.
    assertEquals(List.of(2, 4, 8, 16, 32, 2), ClusterScoring.unitSizes(64, 2, 1, false));
    assertEquals(List.of(2, 4, 8, 16, 32, 2), ClusterScoring.unitSizes(64, 2, 1, true));
    // A population that is one stack is one unit, whatever the evaluators.
    assertEquals(List.of(40), ClusterScoring.unitSizes(40, 64, 3, false));
  }

  @Test
  void alikeEvaluatorsTakeTwoEqualUnitsEach() {
    // MLP fc1, two CPU evaluators: one scoring, one waiting each.
    assertEquals(List.of(13, 13, 13, 13), ClusterScoring.unitSizes(52, 1, 2, true));
    assertEquals(List.of(18, 17, 17, 17, 17, 17), ClusterScoring.unitSizes(103, 1, 3, true));
    // Whole stacks: 7 stacks of 3 (the last short) in 4 units.
    assertEquals(List.of(6, 6, 6, 2), ClusterScoring.unitSizes(20, 3, 2, true));
    // Fewer stacks than units: one unit per stack.
    assertEquals(List.of(2, 1), ClusterScoring.unitSizes(3, 2, 4, true));
    // Units of at least two candidates where stacks are single ones.
    assertEquals(List.of(3), ClusterScoring.unitSizes(3, 1, 2, true));
    assertEquals(List.of(3, 2), ClusterScoring.unitSizes(5, 1, 3, true));
  }
}
