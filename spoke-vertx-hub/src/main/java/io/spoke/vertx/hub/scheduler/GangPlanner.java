// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.scheduler;

import io.spoke.vertx.client.PlacementStrategy;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;

/**
 * The placement search for one gang: which nodes its ranks would go to, by its strategy, reserving nothing. One
 * scan of the scheduler's nodes, reading their free resources from the {@link FreeTable}, keeping only the best few
 * candidates.
 */
final class GangPlanner {

  private GangPlanner() {
  }

  /** One node's part of a plan: how many ranks go there. */
  static final class Share {

    final NodeState node;
    int count;

    Share(NodeState node, int count) {
      this.node = node;
      this.count = count;
    }
  }

  /** A candidate node, how many ranks it can take, and how much room it has (for ordering). */
  private static final class Fit {

    final NodeState node;
    final int fit;
    /** How many actors of the request fit at all (not capped by the gang's size), then free GPUs: for best fit. */
    final int room;
    final int freeGpus;
    /** The node's place in the scan, which is id order: the last tie-breaker. */
    final int row;

    Fit(NodeState node, int fit, int room, int freeGpus, int row) {
      this.node = node;
      this.fit = fit;
      this.room = room;
      this.freeGpus = freeGpus;
      this.row = row;
    }
  }

  /**
   * How the gang would be placed, without reserving anything; {@code null} if it does not fit.
   *
   * @param empty plan against every registered node's whole capacity (feasibility) instead of what is free
   *   on available nodes now
   * @param scanOrder the nodes in id order, the rows of {@code table}
   * @param preferred the gang's preferred node, or {@code null} (always {@code null} when {@code empty})
   */
  static List<Share> plan(GangSpec spec, boolean empty, ArrayList<NodeState> scanOrder, FreeTable table, NodeState preferred) {
    int perNode = spec.actorsPerNode();
    int total = spec.worldSize();
    PlacementStrategy strategy = spec.strategy();
    int limit = strategy == PlacementStrategy.STRICT_SPREAD ? 1 : strategy == PlacementStrategy.STRICT_PACK ? perNode : total;
    int minimum = strategy == PlacementStrategy.STRICT_PACK ? perNode : 1;
    // Only the best few candidates can be chosen (a group per node for STRICT_PACK, at most one node per rank
    // otherwise): keep those in a bounded heap, so a scan of 10,000 nodes allocates next to nothing.
    boolean bestFit = strategy == PlacementStrategy.STRICT_PACK;
    int keep = bestFit ? spec.nodes() : total;
    PriorityQueue<Fit> worstFirst = new PriorityQueue<>(keep + 1, bestFit ? WORST_FIT_FIRST : LEAST_ROOM_FIRST);
    Fit preferredFit = null;
    Resources need = spec.perActor();
    boolean custom = !need.custom().isEmpty();
    for (int i = 0, n = scanOrder.size(); i < n; i++) {
      int room;
      if (empty) {
        room = scanOrder.get(i).fitsEmpty(need, Integer.MAX_VALUE);
      } else {
        // The table answers for most nodes without touching them; custom resources need the node itself.
        if (!table.available[i]) {
          continue;
        }
        room = table.room(i, need);
        if (custom && Math.min(room, limit) >= minimum) {
          room = scanOrder.get(i).fitsNow(need, Integer.MAX_VALUE);
        }
      }
      int fit = Math.min(room, limit);
      if (fit < minimum) {
        continue;
      }
      int freeGpus = table.gpus[i];
      // Rows are in id order, the last tie-breaker: with the heap full, a node must be strictly better than its
      // worst entry to enter, which the table alone can tell.
      if (keep > 0 && worstFirst.size() == keep && (preferred == null || scanOrder.get(i) != preferred)
        && compare(bestFit, room, freeGpus, i, worstFirst.peek()) >= 0) {
        continue;
      }
      NodeState node = scanOrder.get(i);
      Fit candidate = new Fit(node, fit, room, freeGpus, i);
      if (node == preferred) {
        preferredFit = candidate;
      } else {
        worstFirst.add(candidate);
        if (worstFirst.size() > keep) {
          worstFirst.poll();
        }
      }
    }
    List<Fit> candidates = new ArrayList<>(worstFirst);
    candidates.sort(bestFit ? BEST_FIT : MOST_ROOM);
    switch (strategy) {
      case STRICT_PACK:
        return groups(candidates, preferredFit, spec.nodes(), perNode);
      case STRICT_SPREAD:
        return groups(candidates, preferredFit, total, 1);
      case PACK:
        return pack(candidates, preferredFit, total);
      case SPREAD:
        return spread(candidates, preferredFit, total);
      default:
        throw new IllegalStateException("unknown strategy " + strategy);
    }
  }

  /** {@link #BEST_FIT} (or {@link #MOST_ROOM}) order of a node not yet made a {@link Fit}, against {@code other}. */
  private static int compare(boolean bestFit, int room, int freeGpus, int row, Fit other) {
    int c = bestFit ? Integer.compare(room, other.room) : Integer.compare(other.room, room);
    if (c == 0) {
      c = bestFit ? Integer.compare(freeGpus, other.freeGpus) : Integer.compare(other.freeGpus, freeGpus);
    }
    return c != 0 ? c : Integer.compare(row, other.row);
  }

  /** Tightest fit first: keeps large free blocks for large groups. */
  private static final Comparator<Fit> BEST_FIT = Comparator.<Fit>comparingInt(f -> f.room).thenComparingInt(f -> f.freeGpus)
    .thenComparingInt(f -> f.row);
  /** Most room first. */
  private static final Comparator<Fit> MOST_ROOM = Comparator.<Fit>comparingInt(f -> -f.room).thenComparingInt(f -> -f.freeGpus)
    .thenComparingInt(f -> f.row);
  private static final Comparator<Fit> WORST_FIT_FIRST = BEST_FIT.reversed();
  private static final Comparator<Fit> LEAST_ROOM_FIRST = MOST_ROOM.reversed();

  /** {@code groups} distinct nodes with room for {@code size} ranks each; {@code candidates} best first. */
  private static List<Share> groups(List<Fit> candidates, Fit preferred, int groups, int size) {
    int needed = groups - (preferred != null ? 1 : 0);
    if (candidates.size() < needed) {
      return null;
    }
    List<Share> plan = new ArrayList<>(groups);
    if (preferred != null) {
      plan.add(new Share(preferred.node, size));
    }
    for (Fit fit : candidates.subList(0, needed)) {
      plan.add(new Share(fit.node, size));
    }
    return plan;
  }

  /** As few nodes as possible: the preferred node, then those with the most room ({@code candidates}, in that order). */
  private static List<Share> pack(List<Fit> candidates, Fit preferred, int total) {
    List<Share> plan = new ArrayList<>();
    int remaining = total;
    if (preferred != null) {
      int n = Math.min(preferred.fit, remaining);
      plan.add(new Share(preferred.node, n));
      remaining -= n;
    }
    for (int i = 0; remaining > 0 && i < candidates.size(); i++) {
      Fit fit = candidates.get(i);
      int n = Math.min(fit.fit, remaining);
      plan.add(new Share(fit.node, n));
      remaining -= n;
    }
    return remaining == 0 ? plan : null;
  }

  /**
   * As many nodes as possible: one rank per node in turn, the preferred node first, then those with the most
   * room ({@code candidates}, in that order).
   */
  private static List<Share> spread(List<Fit> candidates, Fit preferred, int total) {
    List<Fit> chosen = new ArrayList<>();
    if (preferred != null) {
      chosen.add(preferred);
    }
    chosen.addAll(candidates.subList(0, Math.min(candidates.size(), total - chosen.size())));
    List<Share> plan = new ArrayList<>(chosen.size());
    for (Fit fit : chosen) {
      plan.add(new Share(fit.node, 0));
    }
    int remaining = total;
    boolean progress = true;
    while (remaining > 0 && progress) {
      progress = false;
      for (int i = 0; i < plan.size() && remaining > 0; i++) {
        if (plan.get(i).count < chosen.get(i).fit) {
          plan.get(i).count++;
          remaining--;
          progress = true;
        }
      }
    }
    return remaining == 0 ? plan : null;
  }
}
