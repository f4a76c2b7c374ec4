// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.scheduler;

import io.spoke.vertx.client.PlacementStrategy;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Why a request does not fit, now or ever, as specifically as possible: the messages of the scheduler's refusals. */
final class Shortage {

  private Shortage() {
  }

  /** What the gang needs, by its strategy. */
  static String describeNeed(GangSpec spec) {
    Resources r = spec.perActor();
    switch (spec.strategy()) {
      case STRICT_PACK:
        return "needs " + spec.nodes() + (spec.nodes() == 1 ? " node" : " nodes") + " with " + r.times(spec.actorsPerNode())
          + " free" + (spec.nodes() == 1 ? "" : " each") + " (" + spec.actorsPerNode() + " x " + r + ")";
      case STRICT_SPREAD:
        return "needs " + spec.worldSize() + " distinct nodes with " + r + " free each";
      default:
        return "needs room for " + spec.worldSize() + (spec.worldSize() == 1 ? " rank" : " ranks") + " of " + r + " in all";
    }
  }

  /** Why the gang can never fit {@code nodes} (not empty), which cannot hold it even empty. */
  static String neverFits(GangSpec spec, Collection<NodeState> nodes) {
    NodeState largest = nodes.stream()
      .max(Comparator.comparingInt(NodeState::gpuCount).thenComparingInt(NodeState::cpus).thenComparingLong(NodeState::memoryMb))
      .orElseThrow();
    String what = describeNeed(spec);
    return "can never fit the cluster as registered: " + what + ", and the " + nodes.size() + (nodes.size() == 1 ? " node" : " nodes")
      + " registered cannot hold that even empty (largest: " + largest.id() + " with " + largest.gpuCount() + " GPUs, "
      + largest.cpus() + " CPUs, " + largest.memoryMb() + " MiB" + (largest.custom().isEmpty() ? "" : ", " + largest.custom()) + ")";
  }

  /**
   * What is missing now for the gang, as specifically as possible. One pass over the nodes ({@code scanOrder}, the
   * rows of {@code table}): a refusal costs what a placement does.
   */
  static String now(GangSpec spec, ArrayList<NodeState> scanOrder, FreeTable table) {
    Resources r = spec.perActor();
    int perNode = spec.actorsPerNode();
    int total = spec.worldSize();
    int available = 0;
    int have = 0;
    List<String> some = new ArrayList<>(5);
    int best = -1;
    int bestFit = -1;
    long room = 0;
    boolean custom = !r.custom().isEmpty();
    for (int i = 0, n = scanOrder.size(); i < n; i++) {
      if (!table.available[i]) {
        continue;
      }
      available++;
      int fit = Math.min(table.room(i, r), total);
      if (custom && fit > 0) {
        fit = scanOrder.get(i).fitsNow(r, total);
      }
      room += fit;
      boolean enough = spec.strategy() == PlacementStrategy.STRICT_PACK ? fit >= perNode : fit >= 1;
      if (enough) {
        have++;
      }
      if ((enough || spec.strategy() == PlacementStrategy.PACK || spec.strategy() == PlacementStrategy.SPREAD) && fit > 0 && some.size() < 5) {
        String id = scanOrder.get(i).id();
        some.add(spec.strategy() == PlacementStrategy.STRICT_PACK ? id : id + ": " + fit);
      }
      if (!enough && (fit > bestFit || fit == bestFit && best >= 0 && table.gpus[i] > table.gpus[best])) {
        best = i;
        bestFit = fit;
      }
    }
    if (available == 0) {
      return describeNeed(spec) + "; every node is disconnected or dead";
    }
    switch (spec.strategy()) {
      case STRICT_PACK:
        return describeNeed(spec) + "; " + (have == 0 ? "no node has that" : have + (have == 1 ? " node has" : " nodes have")
          + " that (" + String.join(", ", some) + (have > some.size() ? ", ..." : "") + ")")
          + (best < 0 ? "" : "; best other node " + scanOrder.get(best).id() + " has " + scanOrder.get(best).describeFree());
      case STRICT_SPREAD:
        return describeNeed(spec) + "; " + have + (have == 1 ? " node has" : " nodes have") + " room for one";
      default:
        return describeNeed(spec) + "; the available nodes have room for " + room + " now"
          + (some.isEmpty() ? "" : " (" + String.join(", ", some) + (some.size() == 5 ? ", ..." : "") + ")");
    }
  }

  /** Why a single actor's {@code request} fits no available node of {@code nodes}. */
  static String noRoomForOne(Resources request, Map<String, NodeState> nodes) {
    Collection<NodeState> candidates = nodes.values().stream().filter(NodeState::available).collect(Collectors.toList());
    if (candidates.isEmpty()) {
      return "no node is available for " + request + (nodes.isEmpty() ? ": no agent has registered with the hub; start one with"
        + " ./spoke agent --hub HOST:PORT" : ": every node is disconnected or dead");
    }
    NodeState best = candidates.stream()
      .max(Comparator.comparingInt(NodeState::freeGpuCount).thenComparingInt(NodeState::freeCpus)
        .thenComparingLong(NodeState::freeMemoryMb)).orElseThrow();
    boolean everFits = candidates.stream().anyMatch(n -> n.fitsEmpty(request, 1) >= 1);
    return "needs 1 node with " + request + " free; best node " + best.id() + " has " + best.describeFree()
      + (everFits ? "" : " and no node is that large");
  }
}
