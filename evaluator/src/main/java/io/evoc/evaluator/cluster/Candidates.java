package io.evoc.evaluator.cluster;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.UnsafeByteOperations;
import io.evoc.protocol.cluster.Candidate;
import java.io.IOException;

/**
 * Candidates as messages: a set of weight indices, strictly ascending, sent as gaps, each a
 * varint, in one byte string (see {@code cluster.proto}). The order of the members is kept
 * exactly, since it is the order the delta update subtracts them in, and so part of the score's
 * last bit.
 */
public final class Candidates {
  /** The field candidates used before their gaps became one byte string: sent by an older evoc. */
  private static final int PACKED_GAPS_FIELD = 2;

  private Candidates() {}

  /** @throws IllegalArgumentException when the members are not strictly ascending from 0 */
  public static Candidate encode(int[] members) {
    int bytes = 0;
    int previous = 0;
    for (int i = 0; i < members.length; i++) {
      int gap = members[i] - previous;
      if (members[i] < 0 || (i > 0 && gap <= 0)) {
        throw new IllegalArgumentException("a candidate's members must be distinct, ascending indices; member " + i
            + " is " + members[i] + (i > 0 ? " after " + previous : ""));
      }
      bytes += CodedOutputStream.computeUInt32SizeNoTag(gap);
      previous = members[i];
    }
    byte[] out = new byte[bytes];
    CodedOutputStream writer = CodedOutputStream.newInstance(out);
    previous = 0;
    try {
      for (int member : members) {
        writer.writeUInt32NoTag(member - previous);
        previous = member;
      }
      writer.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new IllegalStateException("the gaps were sized wrong", e); // the array was sized for them
    }
    // The array is the message's own from here on: wrapped, not copied.
    return Candidate.newBuilder().setGaps(UnsafeByteOperations.unsafeWrap(out)).build();
  }

  /**
   * @param size the layer's weight count: every member must index it
   * @throws IllegalArgumentException when a gap is 0 after the first, a member falls outside the
   *     layer, a varint is cut short or longer than a uint32's, or the candidate comes from an
   *     older evoc (all of a cluster's nodes run one version)
   */
  public static int[] decode(Candidate c, long size) {
    if (c.getUnknownFields().hasField(PACKED_GAPS_FIELD)) {
      throw new IllegalArgumentException("a candidate in the format of an older evoc (gaps as field "
          + PACKED_GAPS_FIELD + "): every node of a cluster must run the same evoc version");
    }
    byte[] bytes = c.getGaps().toByteArray();
    int count = 0;
    for (byte b : bytes) {
      count += b >= 0 ? 1 : 0; // a varint's last byte has the high bit clear
    }
    if (bytes.length > 0 && bytes[bytes.length - 1] < 0) {
      throw new IllegalArgumentException("candidate's last gap is cut short (" + bytes.length + " bytes)");
    }
    int[] members = new int[count];
    long at = 0;
    int pos = 0;
    for (int i = 0; i < count; i++) {
      long gap = bytes[pos++];
      if (gap < 0) { // more bytes follow: most gaps take one
        gap &= 0x7f;
        byte b;
        int shift = 7;
        do {
          b = bytes[pos++];
          if (shift == 28 && (b & 0xf0) != 0) {
            throw new IllegalArgumentException("candidate member " + i + ": a gap longer than 32 bits");
          }
          gap |= (long) (b & 0x7f) << shift;
          shift += 7;
        } while (b < 0);
      }
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
