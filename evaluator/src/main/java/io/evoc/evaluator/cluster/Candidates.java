package io.evoc.evaluator.cluster;

import io.evoc.protocol.cluster.Candidate;

/**
 * Candidates as messages: a set of weight indices, strictly ascending, sent as gaps (see
 * {@code cluster.proto}). The order of the members is kept exactly, since it is the order the
 * delta update subtracts them in, and so part of the score's last bit.
 */
public final class Candidates {
  private Candidates() {}

  /** @throws IllegalArgumentException when the members are not strictly ascending from 0 */
  public static Candidate encode(int[] members) {
    Candidate.Builder c = Candidate.newBuilder();
    int previous = 0;
    for (int i = 0; i < members.length; i++) {
      int gap = members[i] - previous;
      if (members[i] < 0 || (i > 0 && gap <= 0)) {
        throw new IllegalArgumentException("a candidate's members must be distinct, ascending indices; member " + i
            + " is " + members[i] + (i > 0 ? " after " + previous : ""));
      }
      c.addGaps(gap);
      previous = members[i];
    }
    return c.build();
  }

  /**
   * @param size the layer's weight count: every member must index it
   * @throws IllegalArgumentException when a gap is 0 after the first, or a member falls outside the layer
   */
  public static int[] decode(Candidate c, long size) {
    int[] members = new int[c.getGapsCount()];
    long at = 0;
    for (int i = 0; i < members.length; i++) {
      long gap = Integer.toUnsignedLong(c.getGaps(i));
      at += gap;
      if ((i > 0 && gap == 0) || at >= size) {
        throw new IllegalArgumentException("candidate member " + i + " (" + at + ") is not a new index of a layer of "
            + size + " weights");
      }
      members[i] = (int) at;
    }
    return members;
  }
}
