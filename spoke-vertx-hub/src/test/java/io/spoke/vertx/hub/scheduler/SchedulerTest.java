// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spoke.vertx.NodeUnavailableException;
import io.spoke.vertx.SchedulingException;
import java.util.BitSet;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class SchedulerTest {

  private static BitSet gpus(int... ids) {
    BitSet set = new BitSet();
    IntStream.of(ids).forEach(set::set);
    return set;
  }

  private static BitSet range(int n) {
    BitSet set = new BitSet();
    set.set(0, n);
    return set;
  }

  @Test
  void placesOnTheLeastLoadedNodeThatFits() {
    Scheduler s = new Scheduler();
    s.addNode("a", range(4), 8, 1000);
    s.addNode("b", range(4), 8, 1000);
    Reservation first = s.allocate(new Resources(2, 0, 0), null);
    Reservation second = s.allocate(new Resources(2, 0, 0), null);
    assertThat(first.nodeId()).isNotEqualTo(second.nodeId());
    assertThat(s.allocate(new Resources(0, 0, 0), null)).isNotNull();
  }

  @Test
  void handsOutDistinctGpuIdsAndTakesThemBackInAnyOrder() {
    Scheduler s = new Scheduler();
    s.addNode("a", range(8), 0, 0);
    Reservation x = s.allocate(new Resources(3, 0, 0), "a");
    Reservation y = s.allocate(new Resources(2, 0, 0), "a");
    assertThat(x.gpuIds()).containsExactly(0, 1, 2);
    assertThat(y.gpuIds()).containsExactly(3, 4);
    s.release(x);
    Reservation z = s.allocate(new Resources(4, 0, 0), "a");
    // Spoke's used+i would hand out 5,6,7,8 here, and 8 does not exist; a free set gives back 0,1,2 and then 5.
    assertThat(z.gpuIds()).containsExactly(0, 1, 2, 5);
    assertThat(s.node("a").freeGpus()).isEqualTo(gpus(6, 7));
  }

  @Test
  void usesOnlyTheGpuIdsANodeHas() {
    Scheduler s = new Scheduler();
    s.addNode("slurm", gpus(2, 5, 7), 0, 0);
    assertThat(s.allocate(new Resources(2, 0, 0), "slurm").gpuIds()).containsExactly(2, 5);
    assertThat(s.allocate(new Resources(1, 0, 0), "slurm").gpuIds()).containsExactly(7);
  }

  @Test
  void explainsWhatIsMissing() {
    Scheduler s = new Scheduler();
    s.addNode("a", range(8), 4, 1000);
    s.allocate(new Resources(5, 0, 0), "a");
    assertThatThrownBy(() -> s.allocate(new Resources(4, 0, 0), null))
      .isInstanceOf(SchedulingException.class)
      .hasMessageContaining("needs 1 node with 4 GPUs free")
      .hasMessageContaining("best node a has 3 of 8 GPUs");
    assertThatThrownBy(() -> s.allocate(new Resources(16, 0, 0), null))
      .hasMessageContaining("no node is that large");
    assertThatThrownBy(() -> s.allocate(new Resources(0, 8, 0), "a"))
      .isInstanceOf(SchedulingException.class).hasMessageContaining("node a cannot fit 0 GPUs, 8 CPUs");
  }

  @Test
  void refusesUnknownAndUnavailableNodes() {
    Scheduler s = new Scheduler();
    assertThatThrownBy(() -> s.allocate(Resources.NONE, null)).isInstanceOf(SchedulingException.class)
      .hasMessageContaining("no agent has registered");
    s.addNode("a", range(1), 1, 1);
    assertThatThrownBy(() -> s.allocate(Resources.NONE, "b")).isInstanceOf(NodeUnavailableException.class)
      .hasMessage("unknown node 'b'; the nodes are: a");
    s.available("a", false);
    assertThatThrownBy(() -> s.allocate(Resources.NONE, "a")).isInstanceOf(NodeUnavailableException.class);
    assertThatThrownBy(() -> s.allocate(Resources.NONE, null)).hasMessageContaining("every node is disconnected or dead");
  }

  @Test
  void ignoresReleasesOfANodeThatWasRemovedAndReAdded() {
    Scheduler s = new Scheduler();
    s.addNode("a", range(2), 0, 0);
    Reservation old = s.allocate(new Resources(2, 0, 0), "a");
    s.removeNode("a");
    s.addNode("a", range(2), 0, 0);
    Reservation fresh = s.allocate(new Resources(2, 0, 0), "a");
    s.release(old);
    assertThat(s.node("a").freeGpuCount()).isZero();
    s.release(fresh);
    assertThat(s.node("a").freeGpuCount()).isEqualTo(2);
  }

  @Test
  void keepsReservationsWhenANodeReRegistersWithNewCapacity() {
    Scheduler s = new Scheduler();
    s.addNode("a", range(4), 4, 100);
    s.allocate(new Resources(2, 2, 50), "a");
    s.addNode("a", range(8), 8, 200, java.util.Map.of());
    assertThat(s.node("a").freeGpus()).isEqualTo(gpus(2, 3, 4, 5, 6, 7));
    assertThat(s.node("a").freeCpus()).isEqualTo(6);
    assertThat(s.node("a").freeMemoryMb()).isEqualTo(150);
  }

  @Test
  void adoptsTheGpusOfActorsThatAlreadyRun() {
    Scheduler s = new Scheduler();
    s.addNode("a", range(4), 0, 0);
    Reservation adopted = s.adopt("a", new int[] {1, 3});
    assertThat(adopted.gpuIds()).containsExactly(1, 3);
    assertThat(s.allocate(new Resources(2, 0, 0), "a").gpuIds()).containsExactly(0, 2);
  }
}
