// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.scheduler;

import java.util.ArrayList;
import java.util.List;

/**
 * A gang's reservations, rank by rank: a plan committed on its nodes, or a placement read back from the hub's
 * journal, reserved later, node by node, as each registers.
 */
final class GangReservations {

  private GangReservations() {
  }

  /** Reserves a plan: ranks are consecutive per node, in plan order, so rank 0 is on the first (preferred) node. */
  static GangPlacement commit(GangSpec spec, List<GangPlanner.Share> plan) {
    List<GangPlacement.Rank> ranks = new ArrayList<>(spec.worldSize());
    int rank = 0;
    for (GangPlanner.Share share : plan) {
      for (int local = 0; local < share.count; local++) {
        ranks.add(new GangPlacement.Rank(rank++, local, share.count, share.node.reserve(spec.perActor())));
      }
    }
    return new GangPlacement(spec, ranks);
  }

  /** A placement as recorded, reserving nothing (see {@link Scheduler#restore}). */
  static GangPlacement restore(GangSpec spec, List<String> nodeIds, List<int[]> gpuIds) {
    int total = spec.worldSize();
    if (nodeIds.size() != total || gpuIds.size() != total) {
      throw new IllegalArgumentException("ticket " + spec.ticket() + " has " + total + " ranks but " + nodeIds.size() + " were recorded");
    }
    List<GangPlacement.Rank> ranks = new ArrayList<>(total);
    for (int first = 0; first < total; ) {
      String nodeId = nodeIds.get(first);
      int end = first;
      while (end < total && nodeIds.get(end).equals(nodeId)) {
        end++;
      }
      for (int r = first; r < end; r++) {
        ranks.add(new GangPlacement.Rank(r, r - first, end - first, Reservation.unbound(nodeId, gpuIds.get(r), spec.perActor())));
      }
      first = end;
    }
    return new GangPlacement(spec, ranks);
  }

  /** Reserves the unbound ranks of {@code placement} on {@code node} (see {@link Scheduler#bind}). */
  static String bind(GangPlacement placement, NodeState node, String nodeId) {
    StringBuilder missing = null;
    for (GangPlacement.Rank rank : placement.ranks()) {
      Reservation recorded = rank.reservation();
      if (recorded.bound() || !recorded.nodeId().equals(nodeId)) {
        continue;
      }
      Reservation bound = node.adopt(recorded.gpuIdsUnsafe(), placement.spec().perActor());
      rank.bind(bound);
      if (bound.gpuIdsUnsafe().length != recorded.gpuIdsUnsafe().length || bound.cpus() != recorded.cpus()
        || bound.memoryMb() != recorded.memoryMb() || !bound.custom().equals(recorded.custom())) {
        missing = (missing == null ? new StringBuilder() : missing.append("; ")).append("rank ").append(rank.rank()).append(" recorded ")
          .append(recorded).append(" but got ").append(bound);
      }
    }
    return missing == null ? null : missing.toString();
  }
}
