package io.evoc.evaluator.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.evoc.protocol.cluster.Candidate;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class CandidatesTest {
  @Test
  void membersTravelAsGapsInAThirdOfTheBytesAndComeBackInOrder() {
    int size = 235_200; // the example MLP's first layer
    Random r = new Random(3);
    TreeSet<Integer> set = new TreeSet<>();
    while (set.size() < 4_704) {
      set.add(r.nextInt(size));
    }
    int[] members = set.stream().mapToInt(Integer::intValue).toArray();

    Candidate c = Candidates.encode(members);
    assertThat(Candidates.decode(c, size)).containsExactly(members);
    // Indices up to 235,200 take three bytes each as varints; gaps of about 50 take one.
    assertThat(c.getSerializedSize()).isLessThan(members.length * 3 / 2);
    assertThat(Candidates.decode(Candidates.encode(new int[0]), size)).isEmpty();
    assertThat(Candidates.decode(Candidates.encode(new int[] {0, size - 1}), size)).containsExactly(0, size - 1);
  }

  @Test
  void unorderedMembersAreRefusedAndBadGapsNamed() {
    assertThatThrownBy(() -> Candidates.encode(new int[] {5, 3})).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("member 1 is 3 after 5");
    assertThatThrownBy(() -> Candidates.encode(new int[] {2, 2})).hasMessageContaining("ascending");
    assertThatThrownBy(() -> Candidates.encode(new int[] {-1})).hasMessageContaining("member 0 is -1");

    Candidate repeated = gaps(4, 0);
    assertThatThrownBy(() -> Candidates.decode(repeated, 10)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("candidate member 1 (4)");
    Candidate outside = gaps(7, 3);
    assertThatThrownBy(() -> Candidates.decode(outside, 10)).hasMessageContaining("(10) is not a new index of a layer of 10");
    // A gap read as unsigned (here 2^32 - 3) cannot wrap the index around to a valid one.
    Candidate wrapping = gaps(5, 0xfd, 0xff, 0xff, 0xff, 0x0f);
    assertThatThrownBy(() -> Candidates.decode(wrapping, 10)).hasMessageContaining("candidate member 1");
    assertThatThrownBy(() -> Candidates.decode(gaps(5, 0x85), 10)).hasMessageContaining("last gap is cut short");
    assertThatThrownBy(() -> Candidates.decode(gaps(0xff, 0xff, 0xff, 0xff, 0xff, 0x01), 10))
        .hasMessageContaining("member 0: a gap longer than 32 bits");
  }

  /** The gaps' bytes are those a packed uint32 field holds: varints, one after another. */
  @Test
  void gapsAreTheVarintsProtobufWrites() throws Exception {
    int[] members = {0, 127, 128 + 127, 128 + 127 + 16_384, 2_000_000_000};
    com.google.protobuf.ByteString.Output expected = com.google.protobuf.ByteString.newOutput();
    com.google.protobuf.CodedOutputStream out = com.google.protobuf.CodedOutputStream.newInstance(expected);
    int previous = 0;
    for (int m : members) {
      out.writeUInt32NoTag(m - previous);
      previous = m;
    }
    out.flush();
    assertThat(Candidates.encode(members).getGaps()).isEqualTo(expected.toByteString());
    assertThat(Candidates.decode(Candidates.encode(members), Integer.MAX_VALUE)).containsExactly(members);
  }

  /** A unit from an older evoc (gaps as a packed field 2) is refused by name, never read as no members. */
  @Test
  void theOlderFormatIsRefused() throws Exception {
    Candidate old = Candidate.parseFrom(new byte[] {0x12, 2, 4, 1}); // field 2, packed: gaps 4 and 1
    assertThatThrownBy(() -> Candidates.decode(old, 10)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("older evoc");
  }

  private static Candidate gaps(int... bytes) {
    byte[] b = new byte[bytes.length];
    for (int i = 0; i < b.length; i++) {
      b[i] = (byte) bytes[i];
    }
    return Candidate.newBuilder().setGaps(com.google.protobuf.ByteString.copyFrom(b)).build();
  }
}
