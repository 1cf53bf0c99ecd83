package io.evoc.coordinator.quantize;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.moeaframework.algorithm.NSGAII;
import org.moeaframework.core.NondominatedPopulation;
import org.moeaframework.core.PRNG;
import org.moeaframework.core.Solution;
import org.moeaframework.core.initialization.InjectedInitialization;
import org.moeaframework.core.variable.EncodingUtils;
import org.moeaframework.problem.AbstractProblem;

/**
 * NSGA-II (MOEA Framework's) over integer genes, minimizing every objective. Evaluations are
 * memoized by genes: in the small discrete spaces of finalization NSGA-II proposes the same
 * genes again and again, and each evaluation is a forward pass.
 *
 * <p>MOEA Framework draws from one process-wide generator ({@link PRNG}); runs are serialized on
 * it and seeded, so a search is reproducible whatever else the process does.
 */
public final class ParetoSearch {
  private static final Object PRNG_LOCK = new Object();

  /** One nondominated solution. */
  public record Point(int[] genes, double[] objectives) {}

  private ParetoSearch() {}

  /**
   * @param lower,upper inclusive bounds per gene
   * @param seeds genes the first population starts from (the rest is random)
   * @param evaluate genes to objectives, all minimized: a population's new genes at once, in order
   *     (a cluster scores them side by side)
   * @return the nondominated points found, ordered by the first objective
   */
  public static List<Point> run(int[] lower, int[] upper, List<int[]> seeds,
      Function<List<int[]>, List<double[]>> evaluate, int objectives, int population, int generations, long seed,
      BooleanSupplier stop) {
    Map<List<Integer>, double[]> memo = new LinkedHashMap<>();
    AbstractProblem problem = new AbstractProblem(lower.length, objectives) {
      @Override
      public void evaluate(Solution solution) {
        int[] genes = EncodingUtils.getInt(solution);
        double[] value = memo.computeIfAbsent(key(genes), k -> evaluate.apply(List.of(genes)).get(0));
        solution.setObjectives(value.clone());
      }

      @Override
      public Solution newSolution() {
        Solution s = new Solution(lower.length, objectives);
        for (int i = 0; i < lower.length; i++) {
          s.setVariable(i, EncodingUtils.newInt(lower[i], upper[i]));
        }
        return s;
      }
    };
    synchronized (PRNG_LOCK) {
      PRNG.setRandom(new Random(seed));
      List<Solution> injected = new ArrayList<>();
      for (int[] genes : seeds) {
        Solution s = problem.newSolution();
        EncodingUtils.setInt(s, genes);
        injected.add(s);
      }
      NSGAII nsga = new NSGAII(problem) {
        /** A population's genes not seen before are evaluated together, first seen first, then each is looked up. */
        @Override
        public void evaluateAll(Iterable<Solution> solutions) {
          Map<List<Integer>, int[]> fresh = new LinkedHashMap<>();
          for (Solution s : solutions) {
            int[] genes = EncodingUtils.getInt(s);
            if (!memo.containsKey(key(genes))) {
              fresh.putIfAbsent(key(genes), genes);
            }
          }
          if (!fresh.isEmpty()) {
            List<double[]> values = evaluate.apply(new ArrayList<>(fresh.values()));
            int i = 0;
            for (List<Integer> k : fresh.keySet()) {
              memo.put(k, values.get(i++));
            }
          }
          super.evaluateAll(solutions);
        }
      };
      nsga.setInitialPopulationSize(population);
      nsga.setInitialization(new InjectedInitialization(problem, injected));
      nsga.step(); // the first population, always: a stopped search still has a front
      for (int g = 0; g < generations && !stop.getAsBoolean(); g++) {
        nsga.step();
      }
      // The front of everything evaluated, not only of the last population: NSGA-II's population
      // can lose an extreme point (the seeds' finest, say) that is still nondominated.
      NondominatedPopulation result = new NondominatedPopulation();
      memo.forEach((genes, value) -> {
        Solution s = problem.newSolution();
        EncodingUtils.setInt(s, genes.stream().mapToInt(Integer::intValue).toArray());
        s.setObjectives(value.clone());
        result.add(s);
      });
      List<Point> points = new ArrayList<>();
      for (Solution s : result) {
        points.add(new Point(EncodingUtils.getInt(s), s.getObjectives()));
      }
      points.sort(Comparator.<Point>comparingDouble(p -> p.objectives()[0])
          .thenComparingDouble(p -> p.objectives()[1]).thenComparing(p -> Arrays.toString(p.genes())));
      return points;
    }
  }

  private static List<Integer> key(int[] genes) {
    return Arrays.stream(genes).boxed().toList();
  }
}
