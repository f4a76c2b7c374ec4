package io.spoke.vertx.hub.scheduler;

import io.spoke.vertx.InfeasibleException;
import io.spoke.vertx.NodeUnavailableException;
import io.spoke.vertx.SchedulingException;
import io.spoke.vertx.client.PlacementStrategy;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Where actors go: a pure, deterministic model of the cluster's nodes and their free resources, with no
 * I/O and no clock. The hub feeds it events (a node joined or left, a request arrived, resources were
 * released, a waiting request expired) on its event loop; nothing here is thread-safe.
 * <p>
 * Gangs are placed all or nothing: a plan is computed first, then committed in one step, so no partial
 * gang is ever reserved. Requests that ask to wait are queued first in, first out; only the head of the
 * queue may be placed, so a large gang is not starved by smaller ones that arrive after it.
 */
public final class Scheduler {

  private final Map<String, NodeState> nodes = new TreeMap<>();
  /** The nodes in id order as an array list, for the placement scan (10,000 nodes: a TreeMap walk costs twice as much). */
  private final ArrayList<NodeState> scanOrder = new ArrayList<>();
  private final LinkedHashMap<String, GangSpec> queue = new LinkedHashMap<>();
  /** Infeasibility by gang shape, for the nodes' capacities as they are: forgotten when a node comes, goes or changes. */
  private final Map<String, Optional<String>> feasibility = new HashMap<>();
  private static final int MAX_REMEMBERED_SHAPES = 1_024;

  // ------------------------------------------------------------------ nodes

  /** Adds a node, or updates the capacity of a known one (its reservations stay). */
  public NodeState addNode(String id, BitSet gpus, int cpus, long memoryMb, Map<String, Long> custom) {
    NodeState node = nodes.get(id);
    if (node == null) {
      node = new NodeState(id, gpus, cpus, memoryMb, custom);
      nodes.put(id, node);
      scanOrder.clear();
      scanOrder.addAll(nodes.values());
    } else {
      node.resize(gpus, cpus, memoryMb, custom);
    }
    feasibility.clear();
    node.available(true);
    return node;
  }

  public NodeState addNode(String id, BitSet gpus, int cpus, long memoryMb) {
    return addNode(id, gpus, cpus, memoryMb, Map.of());
  }

  /** Forgets a node and everything reserved on it. */
  public void removeNode(String id) {
    if (nodes.remove(id) != null) {
      scanOrder.clear();
      scanOrder.addAll(nodes.values());
    }
    feasibility.clear();
  }

  /** Marks a node (un)available for new placements; its reservations stay. */
  public void available(String id, boolean available) {
    NodeState node = nodes.get(id);
    if (node != null) {
      node.available(available);
    }
  }

  public NodeState node(String id) {
    return nodes.get(id);
  }

  /** All nodes, ordered by id. */
  public Collection<NodeState> nodes() {
    return Collections.unmodifiableCollection(nodes.values());
  }

  // ------------------------------------------------------------------ single actors

  /**
   * Reserves {@code request} on node {@code nodeId}, or, when it is {@code null}, on the least loaded
   * available node where it fits (ties broken by fewest reservations, then id). Single actors do not queue.
   *
   * @throws NodeUnavailableException if the named node is unknown or unavailable
   * @throws SchedulingException saying what was missing, if nothing fits
   */
  public Reservation allocate(Resources request, String nodeId) {
    if (nodeId != null) {
      NodeState node = requireNode(nodeId);
      if (!node.available()) {
        throw new NodeUnavailableException("node '" + nodeId + "' is not available (its agent is disconnected or dead)");
      }
      if (!node.fits(request)) {
        throw new SchedulingException("node " + nodeId + " cannot fit " + request + ": it has " + node.describeFree());
      }
      return node.reserve(request);
    }
    NodeState best = null;
    for (NodeState node : nodes.values()) {
      if (node.available() && node.fits(request) && (best == null || LEAST_LOADED.compare(node, best) < 0)) {
        best = node;
      }
    }
    if (best == null) {
      throw new SchedulingException(noRoomForOne(request));
    }
    return best.reserve(request);
  }

  /** Reserves exactly the GPUs an actor already uses (an agent re-registering with running actors). */
  public Reservation adopt(String nodeId, int[] gpuIds) {
    return requireNode(nodeId).adopt(gpuIds);
  }

  /** Gives a reservation back. Reservations of nodes removed since are ignored. */
  public void release(Reservation reservation) {
    NodeState node = nodes.get(reservation.nodeId());
    if (node != null && node == reservation.node()) {
      node.release(reservation);
    }
  }

  // ------------------------------------------------------------------ gangs

  /**
   * Places a gang now, or queues it.
   *
   * @param wait queue the request when it cannot be placed now
   * @return the placement, committed; {@code null} when the request was queued
   * @throws InfeasibleException when the gang can never fit the registered nodes, even empty (also when
   *   asked to wait)
   * @throws SchedulingException when it does not fit now and may not wait, saying what is missing
   * @throws NodeUnavailableException when the preferred node is unknown
   */
  public GangPlacement submit(GangSpec spec, boolean wait) {
    if (spec.preferredNode() != null) {
      requireNode(spec.preferredNode());
    }
    if (queue.containsKey(spec.ticket())) {
      throw new IllegalArgumentException("ticket " + spec.ticket() + " is already waiting");
    }
    String infeasible = infeasibility(spec);
    if (infeasible != null) {
      throw new InfeasibleException(infeasible);
    }
    if (queue.isEmpty()) {
      List<Share> plan = plan(spec, false);
      if (plan != null) {
        return commit(spec, plan);
      }
    }
    if (wait) {
      queue.put(spec.ticket(), spec);
      return null;
    }
    String reason = queue.isEmpty() ? shortage(spec) : queue.size() + (queue.size() == 1 ? " earlier request is" : " earlier requests are")
      + " waiting for resources ahead of this one (first in, first out); ask to wait, or retry later";
    throw new SchedulingException(reason);
  }

  /** Why {@code spec} does not fit now, or {@code null} if it would. Reserves nothing. */
  public String shortageNow(GangSpec spec) {
    return plan(spec, false) == null ? shortage(spec) : null;
  }

  /** Why {@code spec} can never fit the registered nodes even empty, or {@code null} if it could. */
  public String infeasibility(GangSpec spec) {
    if (nodes.isEmpty()) {
      return "no node is registered with the hub; start agents with ./spoke agent --hub HOST:PORT";
    }
    // The answer depends only on the gang's shape and on the nodes' capacities, which rarely change: remember it.
    String shape = spec.nodes() + "x" + spec.actorsPerNode() + " " + spec.strategy() + " " + spec.perActor();
    if (feasibility.size() > MAX_REMEMBERED_SHAPES) {
      feasibility.clear();
    }
    return feasibility.computeIfAbsent(shape, s -> Optional.ofNullable(computeInfeasibility(spec))).orElse(null);
  }

  private String computeInfeasibility(GangSpec spec) {
    if (plan(spec, true) != null) {
      return null;
    }
    NodeState largest = nodes.values().stream()
      .max(Comparator.comparingInt(NodeState::gpuCount).thenComparingInt(NodeState::cpus).thenComparingLong(NodeState::memoryMb))
      .orElseThrow();
    String what = describeNeed(spec);
    return "can never fit the cluster as registered: " + what + ", and the " + nodes.size() + (nodes.size() == 1 ? " node" : " nodes")
      + " registered cannot hold that even empty (largest: " + largest.id() + " with " + largest.gpuCount() + " GPUs, "
      + largest.cpus() + " CPUs, " + largest.memoryMb() + " MiB" + (largest.custom().isEmpty() ? "" : ", " + largest.custom()) + ")";
  }

  /**
   * Places waiting requests from the head of the queue while the head fits. Heads that became infeasible
   * (their nodes left) are taken out and reported in {@code infeasible}.
   */
  public List<GangPlacement> drain(Map<String, String> infeasible) {
    List<GangPlacement> placed = new ArrayList<>();
    Iterator<GangSpec> it = queue.values().iterator();
    while (it.hasNext()) {
      GangSpec head = it.next();
      String reason = infeasibility(head);
      if (reason != null) {
        it.remove();
        infeasible.put(head.ticket(), reason);
        continue;
      }
      List<Share> plan = plan(head, false);
      if (plan == null) {
        break;
      }
      it.remove();
      placed.add(commit(head, plan));
    }
    return placed;
  }

  /** Takes a waiting request out of the queue; false if it was not waiting. */
  public boolean cancel(String ticket) {
    return queue.remove(ticket) != null;
  }

  /** Tickets waiting, first in first out. */
  public List<String> waiting() {
    return List.copyOf(queue.keySet());
  }

  /** Gives every reservation of a gang back. Reservations of nodes removed since are ignored. */
  public void release(GangPlacement placement) {
    for (GangPlacement.Rank rank : placement.ranks()) {
      release(rank.reservation());
    }
  }

  /** One node's part of a plan: how many ranks go there. */
  private static final class Share {

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

    Fit(NodeState node, int fit, int room) {
      this.node = node;
      this.fit = fit;
      this.room = room;
      this.freeGpus = node.freeGpuCount();
    }
  }

  /**
   * How the gang would be placed, without reserving anything; {@code null} if it does not fit.
   *
   * @param empty plan against every registered node's whole capacity (feasibility) instead of what is free
   *   on available nodes now
   */
  private List<Share> plan(GangSpec spec, boolean empty) {
    int perNode = spec.actorsPerNode();
    int total = spec.worldSize();
    PlacementStrategy strategy = spec.strategy();
    int limit = strategy == PlacementStrategy.STRICT_SPREAD ? 1 : strategy == PlacementStrategy.STRICT_PACK ? perNode : total;
    int minimum = strategy == PlacementStrategy.STRICT_PACK ? perNode : 1;
    NodeState preferred = empty || spec.preferredNode() == null ? null : nodes.get(spec.preferredNode());
    // Only the best few candidates can be chosen (a group per node for STRICT_PACK, at most one node per rank
    // otherwise): keep those in a bounded heap, so a scan of 10,000 nodes allocates next to nothing.
    boolean bestFit = strategy == PlacementStrategy.STRICT_PACK;
    int keep = bestFit ? spec.nodes() : total;
    PriorityQueue<Fit> worstFirst = new PriorityQueue<>(keep + 1, bestFit ? WORST_FIT_FIRST : LEAST_ROOM_FIRST);
    Fit preferredFit = null;
    for (int i = 0, n = scanOrder.size(); i < n; i++) {
      NodeState node = scanOrder.get(i);
      if (!empty && !node.available()) {
        continue;
      }
      int room = empty ? node.fitsEmpty(spec.perActor(), Integer.MAX_VALUE) : node.fitsNow(spec.perActor(), Integer.MAX_VALUE);
      int fit = Math.min(room, limit);
      if (fit < minimum) {
        continue;
      }
      if (node == preferred) {
        preferredFit = new Fit(node, fit, room);
      } else if (worstFirst.size() < keep) {
        worstFirst.add(new Fit(node, fit, room));
      } else if (compare(bestFit, room, node.freeGpuCount(), node.id(), worstFirst.peek()) < 0) {
        worstFirst.poll();
        worstFirst.add(new Fit(node, fit, room));
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
  private static int compare(boolean bestFit, int room, int freeGpus, String id, Fit other) {
    int c = bestFit ? Integer.compare(room, other.room) : Integer.compare(other.room, room);
    if (c == 0) {
      c = bestFit ? Integer.compare(freeGpus, other.freeGpus) : Integer.compare(other.freeGpus, freeGpus);
    }
    return c != 0 ? c : id.compareTo(other.node.id());
  }

  /** Tightest fit first: keeps large free blocks for large groups. */
  private static final Comparator<Fit> BEST_FIT = Comparator.<Fit>comparingInt(f -> f.room).thenComparingInt(f -> f.freeGpus)
    .thenComparing(f -> f.node.id());
  /** Most room first. */
  private static final Comparator<Fit> MOST_ROOM = Comparator.<Fit>comparingInt(f -> -f.room).thenComparingInt(f -> -f.freeGpus)
    .thenComparing(f -> f.node.id());
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

  /** Reserves a plan: ranks are consecutive per node, in plan order, so rank 0 is on the first (preferred) node. */
  private GangPlacement commit(GangSpec spec, List<Share> plan) {
    List<GangPlacement.Rank> ranks = new ArrayList<>(spec.worldSize());
    int rank = 0;
    for (Share share : plan) {
      for (int local = 0; local < share.count; local++) {
        ranks.add(new GangPlacement.Rank(rank++, local, share.count, share.node.reserve(spec.perActor())));
      }
    }
    return new GangPlacement(spec, ranks);
  }

  // ------------------------------------------------------------------ messages

  private static final Comparator<NodeState> LEAST_LOADED = Comparator.comparingDouble(NodeState::load)
    .thenComparingInt(NodeState::reservations)
    .thenComparing(NodeState::id);

  private NodeState requireNode(String nodeId) {
    NodeState node = nodes.get(nodeId);
    if (node == null) {
      throw new NodeUnavailableException("unknown node '" + nodeId + "'; the nodes are: "
        + (nodes.isEmpty() ? "none" : String.join(", ", nodes.keySet())));
    }
    return node;
  }

  private static String describeNeed(GangSpec spec) {
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

  /** What is missing now, as specifically as possible. */
  private String shortage(GangSpec spec) {
    List<NodeState> available = nodes.values().stream().filter(NodeState::available).collect(Collectors.toList());
    if (available.isEmpty()) {
      return describeNeed(spec) + "; every node is disconnected or dead";
    }
    Resources r = spec.perActor();
    switch (spec.strategy()) {
      case STRICT_PACK: {
        int perNode = spec.actorsPerNode();
        List<NodeState> have = available.stream().filter(n -> n.fitsNow(r, perNode) >= perNode).collect(Collectors.toList());
        NodeState best = available.stream().filter(n -> n.fitsNow(r, perNode) < perNode)
          .max(Comparator.comparingInt((NodeState n) -> n.fitsNow(r, perNode)).thenComparingInt(NodeState::freeGpuCount))
          .orElse(null);
        return describeNeed(spec) + "; " + (have.isEmpty() ? "no node has that" : have.size() + (have.size() == 1 ? " node has" : " nodes have")
          + " that (" + have.stream().limit(5).map(NodeState::id).collect(Collectors.joining(", ")) + (have.size() > 5 ? ", ..." : "") + ")")
          + (best == null ? "" : "; best other node " + best.id() + " has " + best.describeFree());
      }
      case STRICT_SPREAD: {
        long have = available.stream().filter(n -> n.fitsNow(r, 1) >= 1).count();
        return describeNeed(spec) + "; " + have + (have == 1 ? " node has" : " nodes have") + " room for one";
      }
      default: {
        int total = spec.worldSize();
        long room = 0;
        List<String> parts = new ArrayList<>();
        for (NodeState n : available) {
          int fit = n.fitsNow(r, total);
          room += fit;
          if (fit > 0 && parts.size() < 5) {
            parts.add(n.id() + ": " + fit);
          }
        }
        return describeNeed(spec) + "; the available nodes have room for " + room + " now"
          + (parts.isEmpty() ? "" : " (" + String.join(", ", parts) + (parts.size() == 5 ? ", ..." : "") + ")");
      }
    }
  }

  private String noRoomForOne(Resources request) {
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
