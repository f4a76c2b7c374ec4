// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.scheduler;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Where a gang was placed: one reservation per global rank, in rank order. Immutable, except that the ranks of a
 * placement read back from the hub's journal ({@link Scheduler#restore}) are bound to their nodes as those
 * register ({@link Scheduler#bind}).
 */
public final class GangPlacement {

  /** One rank. */
  public static final class Rank {

    private final int rank;
    private final int localRank;
    private final int localWorldSize;
    private Reservation reservation;

    Rank(int rank, int localRank, int localWorldSize, Reservation reservation) {
      this.rank = rank;
      this.localRank = localRank;
      this.localWorldSize = localWorldSize;
      this.reservation = reservation;
    }

    public int rank() {
      return rank;
    }

    public int localRank() {
      return localRank;
    }

    public int localWorldSize() {
      return localWorldSize;
    }

    public String nodeId() {
      return reservation.nodeId();
    }

    public Reservation reservation() {
      return reservation;
    }

    void bind(Reservation bound) {
      this.reservation = bound;
    }

    @Override
    public String toString() {
      return "rank " + rank + " (local " + localRank + "/" + localWorldSize + ") on " + reservation;
    }
  }

  private final GangSpec spec;
  private final List<Rank> ranks;

  GangPlacement(GangSpec spec, List<Rank> ranks) {
    this.spec = spec;
    this.ranks = List.copyOf(ranks);
  }

  public GangSpec spec() {
    return spec;
  }

  public String ticket() {
    return spec.ticket();
  }

  /** Ranks in order: {@code ranks().get(r).rank() == r}. */
  public List<Rank> ranks() {
    return ranks;
  }

  /** Nodes that hold ranks not yet bound (see {@link Scheduler#restore}), in id order; empty once all are. */
  public Set<String> unboundNodes() {
    Set<String> unbound = new TreeSet<>();
    for (Rank rank : ranks) {
      if (!rank.reservation.bound()) {
        unbound.add(rank.nodeId());
      }
    }
    return unbound;
  }

  /** Rank 0's node: where MASTER_ADDR points. */
  public String masterNode() {
    return ranks.get(0).nodeId();
  }

  @Override
  public String toString() {
    return "GangPlacement" + ranks;
  }
}
