/**
 * Scoring for directed-evolution sparsification (issue 3): the prunable layers of a graph and the
 * teacher-student divergence of candidates scored together on the device. Callers own the
 * NDManager scope the arrays live in; results leave as Java arrays.
 */
package io.evoc.evaluator.scoring;
