package io.evoc.evaluator.data;

/**
 * One model call's share of a data set: samples {@code offset .. offset+count-1}, fed as {@code
 * size} rows. When size > count the last {@code padding()} rows are zeros that only fill a fixed
 * batch dimension: drop their outputs.
 *
 * @param index position of this batch in its {@link BatchPlan}
 */
public record Batch(int index, int offset, int count, int size) {
  public int padding() {
    return size - count;
  }

  public boolean isPadded() {
    return size > count;
  }
}
