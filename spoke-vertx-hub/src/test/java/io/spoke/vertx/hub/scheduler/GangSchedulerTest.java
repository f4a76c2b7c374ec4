// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spoke.vertx.InfeasibleException;
import io.spoke.vertx.NodeUnavailableException;
import io.spoke.vertx.SchedulingException;
import io.spoke.vertx.client.PlacementStrategy;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Gang placement, the queue, and the GPU bookkeeping under thousands of random operations. */
class GangSchedulerTest {

  private static BitSet range(int n) {
    BitSet set = new BitSet();
    set.set(0, n);
    return set;
  }

  private static Scheduler cluster(int nodes, int gpus) {
    Scheduler s = new Scheduler();
    for (int i = 0; i < nodes; i++) {
      s.addNode("n" + i, range(gpus), 64, 256_000);
    }
    return s;
  }

  private static GangSpec gang(String ticket, int nodes, int perNode, int gpus, PlacementStrategy strategy) {
    return new GangSpec(ticket, nodes, perNode, new Resources(gpus, 0, 0), strategy, null);
  }

  private static List<String> nodesOf(GangPlacement p) {
    return p.ranks().stream().map(GangPlacement.Rank::nodeId).collect(Collectors.toList());
  }

  @Test
  void strictPackPutsEachGroupOnANodeOfItsOwn() {
    Scheduler s = cluster(3, 8);
    GangPlacement p = s.submit(gang("t", 2, 4, 1, PlacementStrategy.STRICT_PACK), false);
    assertThat(p.ranks()).hasSize(8);
    List<String> nodes = nodesOf(p);
    assertThat(nodes.subList(0, 4)).containsOnly(nodes.get(0));
    assertThat(nodes.subList(4, 8)).containsOnly(nodes.get(4));
    assertThat(nodes.get(0)).isNotEqualTo(nodes.get(4));
    for (GangPlacement.Rank r : p.ranks()) {
      assertThat(r.rank()).isEqualTo(p.ranks().indexOf(r));
      assertThat(r.localRank()).isEqualTo(r.rank() % 4);
      assertThat(r.localWorldSize()).isEqualTo(4);
      assertThat(r.reservation().gpuIds()).hasSize(1);
    }
    assertThat(p.ranks().subList(0, 4).stream().map(r -> r.reservation().gpuIds()[0])).containsExactly(0, 1, 2, 3);
  }

  @Test
  void strictPackPrefersTheTightestFitToKeepWholeNodesForLargeGangs() {
    Scheduler s = cluster(2, 8);
    s.allocate(new Resources(4, 0, 0), "n1");
    GangPlacement p = s.submit(gang("small", 1, 4, 1, PlacementStrategy.STRICT_PACK), false);
    assertThat(nodesOf(p)).containsOnly("n1");
    assertThat(s.submit(gang("big", 1, 8, 1, PlacementStrategy.STRICT_PACK), false)).isNotNull();
  }

  @Test
  void thePreferredNodeTakesRankZeroWhenItFits() {
    Scheduler s = cluster(3, 8);
    GangSpec spec = new GangSpec("t", 2, 2, new Resources(1, 0, 0), PlacementStrategy.STRICT_PACK, "n2");
    GangPlacement p = s.submit(spec, false);
    assertThat(p.masterNode()).isEqualTo("n2");
    s.allocate(new Resources(8, 0, 0), "n1");
    GangPlacement full = s.submit(new GangSpec("u", 1, 2, new Resources(1, 0, 0), PlacementStrategy.STRICT_PACK, "n1"), false);
    assertThat(full.masterNode()).isNotEqualTo("n1");
    assertThatThrownBy(() -> s.submit(new GangSpec("v", 1, 1, Resources.NONE, PlacementStrategy.PACK, "nope"), false))
      .isInstanceOf(NodeUnavailableException.class);
  }

  @Test
  void saysWhatIsMissingWhenAGangDoesNotFitNow() {
    Scheduler s = cluster(2, 8);
    s.allocate(new Resources(3, 0, 0), "n0");
    s.allocate(new Resources(4, 0, 0), "n1");
    assertThatThrownBy(() -> s.submit(gang("t", 1, 8, 1, PlacementStrategy.STRICT_PACK), false))
      .isInstanceOf(SchedulingException.class)
      .isNotInstanceOf(InfeasibleException.class)
      .hasMessageContaining("needs 1 node with 8 GPUs free (8 x 1 GPU); no node has that; best other node n0 has 5 of 8 GPUs");
  }

  @Test
  void packUsesAsFewNodesAsPossible() {
    Scheduler s = cluster(3, 8);
    s.allocate(new Resources(5, 0, 0), "n0");
    GangPlacement p = s.submit(gang("t", 1, 10, 1, PlacementStrategy.PACK), false);
    assertThat(nodesOf(p).stream().distinct()).hasSize(2);
    assertThat(p.ranks().get(0).localWorldSize()).isEqualTo(8);
    assertThat(p.ranks().get(9).localWorldSize()).isEqualTo(2);
    assertThat(p.ranks().get(9).localRank()).isEqualTo(1);
  }

  @Test
  void spreadUsesAsManyNodesAsPossible() {
    Scheduler s = cluster(4, 8);
    GangPlacement p = s.submit(gang("t", 1, 3, 1, PlacementStrategy.SPREAD), false);
    assertThat(nodesOf(p).stream().distinct()).hasSize(3);
    GangPlacement more = s.submit(gang("u", 2, 5, 1, PlacementStrategy.SPREAD), false);
    Map<String, Long> perNode = nodesOf(more).stream().collect(Collectors.groupingBy(n -> n, Collectors.counting()));
    assertThat(perNode).hasSize(4);
    assertThat(perNode.values()).allMatch(c -> c == 2 || c == 3);
  }

  @Test
  void strictSpreadNeedsADistinctNodePerRank() {
    Scheduler s = cluster(3, 8);
    assertThat(nodesOf(s.submit(gang("t", 1, 3, 1, PlacementStrategy.STRICT_SPREAD), false))).doesNotHaveDuplicates();
    assertThatThrownBy(() -> s.submit(gang("u", 2, 2, 1, PlacementStrategy.STRICT_SPREAD), true))
      .isInstanceOf(InfeasibleException.class)
      .hasMessageContaining("needs 4 distinct nodes with 1 GPU free each");
  }

  @Test
  void infeasibleGangsFailAtOnceEvenWhenAskedToWait() {
    Scheduler s = cluster(2, 8);
    assertThatThrownBy(() -> s.submit(gang("t", 1, 9, 1, PlacementStrategy.STRICT_PACK), true))
      .isInstanceOf(InfeasibleException.class)
      .hasMessageContaining("can never fit the cluster as registered")
      .hasMessageContaining("largest: n0 with 8 GPUs");
    assertThatThrownBy(() -> s.submit(gang("u", 3, 1, 1, PlacementStrategy.STRICT_PACK), true))
      .isInstanceOf(InfeasibleException.class);
    assertThat(s.waiting()).isEmpty();
    assertThatThrownBy(() -> new Scheduler().submit(gang("v", 1, 1, 0, PlacementStrategy.PACK), false))
      .isInstanceOf(InfeasibleException.class).hasMessageContaining("no node is registered");
  }

  @Test
  void withNoNodeRegisteredAtAllARequestThatMayWaitWaitsForTheFirst() {
    Scheduler s = new Scheduler();
    assertThat(s.submit(gang("v", 1, 2, 1, PlacementStrategy.PACK), true)).as("queued").isNull();
    assertThat(s.waiting()).hasSize(1);
    assertThat(s.drain(new java.util.LinkedHashMap<>())).as("still no node: it keeps waiting").isEmpty();
    assertThat(s.waiting()).hasSize(1);
  }

  @Test
  void feasibilityFollowsNodesThatComeGrowAndGo() {
    Scheduler s = cluster(1, 4);
    GangSpec eight = gang("t", 1, 8, 1, PlacementStrategy.STRICT_PACK);
    assertThat(s.infeasibility(eight)).contains("can never fit");
    s.addNode("n0", range(8), 64, 256_000);
    assertThat(s.infeasibility(eight)).isNull();
    s.addNode("n0", range(2), 64, 256_000);
    assertThat(s.infeasibility(eight)).contains("largest: n0 with 2 GPUs");
    s.addNode("big", range(8), 64, 256_000);
    assertThat(s.submit(eight, false).ranks()).hasSize(8);
    s.removeNode("big");
    assertThatThrownBy(() -> s.submit(gang("u", 1, 8, 1, PlacementStrategy.STRICT_PACK), true))
      .isInstanceOf(InfeasibleException.class);
  }

  @Test
  void waitingGangsArePlacedFirstInFirstOutAsResourcesFree() {
    Scheduler s = cluster(1, 8);
    GangPlacement a = s.submit(gang("a", 1, 6, 1, PlacementStrategy.STRICT_PACK), false);
    assertThat(s.submit(gang("b", 1, 4, 1, PlacementStrategy.STRICT_PACK), true)).isNull();
    // c would fit in the 2 free GPUs, but b is ahead of it: no overtaking, so b cannot be starved.
    assertThat(s.submit(gang("c", 1, 2, 1, PlacementStrategy.STRICT_PACK), true)).isNull();
    assertThat(s.waiting()).containsExactly("b", "c");
    assertThat(s.drain(new HashMap<>())).isEmpty();
    assertThatThrownBy(() -> s.submit(gang("d", 1, 1, 1, PlacementStrategy.STRICT_PACK), false))
      .isInstanceOf(SchedulingException.class).hasMessageContaining("2 earlier requests are waiting");

    s.release(a);
    List<GangPlacement> placed = s.drain(new HashMap<>());
    assertThat(placed.stream().map(GangPlacement::ticket)).containsExactly("b", "c");
    assertThat(s.waiting()).isEmpty();
    assertThat(s.node("n0").freeGpuCount()).isEqualTo(2);
  }

  @Test
  void aWaitingGangCanBeCancelled() {
    Scheduler s = cluster(1, 2);
    s.submit(gang("a", 1, 2, 1, PlacementStrategy.STRICT_PACK), false);
    s.submit(gang("b", 1, 2, 1, PlacementStrategy.STRICT_PACK), true);
    assertThat(s.cancel("b")).isTrue();
    assertThat(s.cancel("b")).isFalse();
    assertThat(s.waiting()).isEmpty();
  }

  @Test
  void waitingGangsWhoseNodesLeftAreReportedInfeasible() {
    Scheduler s = cluster(2, 4);
    s.submit(gang("a", 2, 4, 1, PlacementStrategy.STRICT_PACK), false);
    s.submit(gang("b", 2, 4, 1, PlacementStrategy.STRICT_PACK), true);
    s.removeNode("n1");
    Map<String, String> infeasible = new LinkedHashMap<>();
    assertThat(s.drain(infeasible)).isEmpty();
    assertThat(infeasible).containsOnlyKeys("b");
    assertThat(s.waiting()).isEmpty();
  }

  @Test
  void customResourcesAreCountedLikeGpus() {
    Scheduler s = new Scheduler();
    s.addNode("n0", range(8), 64, 1000, Map.of("rdma_nic", 2L));
    s.addNode("n1", range(8), 64, 1000, Map.of());
    GangSpec two = new GangSpec("t", 1, 2, new Resources(1, 0, 0, Map.of("rdma_nic", 1L)), PlacementStrategy.STRICT_PACK, null);
    assertThat(nodesOf(s.submit(two, false))).containsOnly("n0");
    assertThat(s.node("n0").freeCustom()).containsEntry("rdma_nic", 0L);
    GangSpec one = new GangSpec("u", 1, 1, new Resources(0, 0, 0, Map.of("rdma_nic", 1L)), PlacementStrategy.PACK, null);
    assertThatThrownBy(() -> s.submit(one, false)).isInstanceOf(SchedulingException.class).hasMessageContaining("rdma_nic");
    GangSpec three = new GangSpec("v", 1, 3, new Resources(0, 0, 0, Map.of("rdma_nic", 1L)), PlacementStrategy.STRICT_PACK, null);
    assertThatThrownBy(() -> s.submit(three, true)).isInstanceOf(InfeasibleException.class);
  }

  /**
   * Spoke's linear {@code used + i} GPU assignment hands out a GPU twice after out-of-order releases. Here,
   * thousands of random allocations and releases, single and gang, every strategy: no GPU id is ever in two
   * live reservations, and free + reserved = capacity on every node after every step.
   */
  @Test
  void gpuIdsAreNeverHandedOutTwiceWhateverTheOrderOfReleases() {
    Random random = new Random(20261125);
    for (int round = 0; round < 20; round++) {
      Scheduler s = new Scheduler();
      int nodes = 1 + random.nextInt(5);
      for (int i = 0; i < nodes; i++) {
        s.addNode("n" + i, range(1 + random.nextInt(8)), 64, 256_000);
      }
      List<Object> live = new ArrayList<>();
      int ticket = 0;
      for (int step = 0; step < 500; step++) {
        int op = random.nextInt(10);
        try {
          if (op < 3) {
            live.add(s.allocate(new Resources(random.nextInt(3), 0, 0), random.nextBoolean() ? null : "n" + random.nextInt(nodes)));
          } else if (op < 6) {
            PlacementStrategy strategy = PlacementStrategy.values()[random.nextInt(4)];
            GangPlacement p = s.submit(gang("t" + ticket++, 1 + random.nextInt(2), 1 + random.nextInt(3), random.nextInt(3), strategy),
              random.nextInt(4) == 0);
            if (p != null) {
              live.add(p);
            }
          } else if (op == 6 && random.nextInt(4) == 0) {
            // Nodes come and go, and re-register with other CPU counts: the placement scan's table follows.
            String node = "n" + random.nextInt(nodes);
            if (random.nextBoolean()) {
              s.available(node, random.nextBoolean());
            } else {
              s.addNode(node, s.node(node).gpus(), 32 + random.nextInt(64), 256_000);
            }
          } else if (!live.isEmpty()) {
            Object victim = live.remove(random.nextInt(live.size()));
            if (victim instanceof Reservation) {
              s.release((Reservation) victim);
            } else {
              s.release((GangPlacement) victim);
            }
            live.addAll(s.drain(new HashMap<>()));
          }
        } catch (SchedulingException | NodeUnavailableException expected) {
          // full: fine, nothing may have been reserved
        }
        checkInvariants(s, live);
        assertThat(s.freeTableMismatch()).isNull();
      }
    }
  }

  @Test
  void aRestoredPlacementReservesNothingUntilItsNodesRegisterThenExactlyWhatWasRecorded() {
    Scheduler before = new Scheduler();
    before.addNode("n0", range(4), 64, 256_000, Map.of("disk", 100L));
    before.addNode("n1", range(4), 64, 256_000, Map.of("disk", 100L));
    GangSpec spec = new GangSpec("t", 2, 2, new Resources(1, 2, 100, Map.of("disk", 5L)), PlacementStrategy.STRICT_PACK, null);
    before.allocate(new Resources(1, 0, 0), "n0");
    GangPlacement original = before.submit(spec, false);

    // The hub restarts: a new scheduler, and the placement read back from the journal before any node registered.
    Scheduler after = new Scheduler();
    GangPlacement restored = after.restore(spec, nodesOf(original),
      original.ranks().stream().map(r -> r.reservation().gpuIds()).collect(Collectors.toList()));
    assertThat(restored.unboundNodes()).containsExactly("n0", "n1");
    for (int r = 0; r < 4; r++) {
      GangPlacement.Rank was = original.ranks().get(r);
      GangPlacement.Rank is = restored.ranks().get(r);
      assertThat(is.nodeId()).isEqualTo(was.nodeId());
      assertThat(is.localRank()).isEqualTo(was.localRank());
      assertThat(is.localWorldSize()).isEqualTo(was.localWorldSize());
      assertThat(is.reservation().gpuIds()).isEqualTo(was.reservation().gpuIds());
      assertThat(is.reservation().bound()).isFalse();
    }

    String n1 = original.ranks().get(2).nodeId();
    after.addNode(n1, range(4), 64, 256_000, Map.of("disk", 100L));
    assertThat(after.bind(restored, n1)).isNull();
    assertThat(restored.unboundNodes()).hasSize(1).doesNotContain(n1);
    NodeState node = after.node(n1);
    BitSet expectedFree = range(4);
    restored.ranks().subList(2, 4).forEach(r -> {
      assertThat(r.reservation().bound()).isTrue();
      for (int gpu : r.reservation().gpuIds()) {
        expectedFree.clear(gpu);
      }
    });
    assertThat(node.freeGpus()).isEqualTo(expectedFree);
    assertThat(node.freeCpus()).isEqualTo(60);
    assertThat(node.freeMemoryMb()).isEqualTo(256_000 - 200);
    assertThat(node.freeCustom()).containsEntry("disk", 90L);
    assertThat(after.bind(restored, n1)).as("binding twice reserves nothing more").isNull();
    assertThat(node.freeCpus()).isEqualTo(60);

    // Released before its other node came back: what was bound is freed, the unbound rest is ignored.
    after.release(restored);
    assertThat(node.freeGpus()).isEqualTo(range(4));
    assertThat(node.freeCpus()).isEqualTo(64);
    assertThat(node.freeCustom()).containsEntry("disk", 100L);
    assertThat(after.freeTableMismatch()).isNull();
  }

  @Test
  void bindingTakesOnlyWhatIsFreeAndSaysWhatWasMissing() {
    Scheduler s = new Scheduler();
    GangSpec spec = gang("t", 1, 2, 1, PlacementStrategy.PACK);
    GangPlacement restored = s.restore(spec, List.of("a", "a"), List.of(new int[] {0}, new int[] {7}));
    s.addNode("a", range(4), 0, 0);
    Reservation other = s.adopt("a", new int[] {0});
    String missing = s.bind(restored, "a");
    assertThat(missing).contains("rank 0").contains("rank 1");
    assertThat(restored.ranks().get(0).reservation().gpuIds()).isEmpty();
    assertThat(restored.ranks().get(1).reservation().gpuIds()).isEmpty();
    s.release(restored);
    s.release(other);
    assertThat(s.node("a").freeGpus()).isEqualTo(range(4));
    assertThatThrownBy(() -> s.restore(spec, List.of("a"), List.of(new int[0]))).isInstanceOf(IllegalArgumentException.class);
  }

  private static void checkInvariants(Scheduler s, List<Object> live) {
    Map<String, BitSet> reserved = new HashMap<>();
    for (Object o : live) {
      List<Reservation> reservations = o instanceof Reservation ? List.of((Reservation) o)
        : ((GangPlacement) o).ranks().stream().map(GangPlacement.Rank::reservation).collect(Collectors.toList());
      for (Reservation r : reservations) {
        BitSet used = reserved.computeIfAbsent(r.nodeId(), k -> new BitSet());
        for (int gpu : r.gpuIds()) {
          assertThat(used.get(gpu)).as("GPU %d of %s in two live reservations", gpu, r.nodeId()).isFalse();
          used.set(gpu);
        }
        assertThat(r.gpuIds()).doesNotHaveDuplicates();
      }
    }
    for (NodeState node : s.nodes()) {
      BitSet used = reserved.getOrDefault(node.id(), new BitSet());
      BitSet free = node.freeGpus();
      assertThat(free.intersects(used)).as("a reserved GPU of %s is also free", node.id()).isFalse();
      BitSet all = (BitSet) free.clone();
      all.or(used);
      assertThat(all).as("free + reserved = capacity on %s", node.id()).isEqualTo(node.gpus());
    }
  }
}
