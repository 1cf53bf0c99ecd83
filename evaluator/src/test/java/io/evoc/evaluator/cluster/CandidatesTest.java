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

    Candidate repeated = Candidate.newBuilder().addGaps(4).addGaps(0).build();
    assertThatThrownBy(() -> Candidates.decode(repeated, 10)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("candidate member 1 (4)");
    Candidate outside = Candidate.newBuilder().addGaps(7).addGaps(3).build();
    assertThatThrownBy(() -> Candidates.decode(outside, 10)).hasMessageContaining("(10) is not a new index of a layer of 10");
    // A gap read as unsigned cannot wrap the index around to a valid one.
    Candidate wrapping = Candidate.newBuilder().addGaps(5).addGaps(-3).build();
    assertThatThrownBy(() -> Candidates.decode(wrapping, 10)).hasMessageContaining("candidate member 1");
  }
}
