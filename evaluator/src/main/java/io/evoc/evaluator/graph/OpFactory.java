package io.evoc.evaluator.graph;

/** Compiles a node of one op type into a {@link Kernel}, or throws {@link UnsupportedModelException}. */
@FunctionalInterface
public interface OpFactory {
  Kernel compile(Node node, PlanContext context);
}
