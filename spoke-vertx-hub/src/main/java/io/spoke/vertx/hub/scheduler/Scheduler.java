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
  /** Free resources of {@link #scanOrder}'s nodes, row by row. */
  private FreeTable free = new FreeTable(List.of());
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
      rebuildScan();
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
    NodeState removed = nodes.remove(id);
    if (removed != null) {
      removed.attach(null, -1);
      rebuildScan();
    }
    feasibility.clear();
  }

  /** The free-resource table disagrees with a node: a description of the first mismatch, or null (for tests). */
  String freeTableMismatch() {
    for (int i = 0; i < scanOrder.size(); i++) {
      NodeState node = scanOrder.get(i);
      if (free.gpus[i] != node.freeGpuCount() || free.cpus[i] != node.freeCpus() || free.memoryMb[i] != node.freeMemoryMb()
        || free.available[i] != node.available()) {
        return "row " + i + " (" + node.id() + "): table " + free.gpus[i] + " GPUs, " + free.cpus[i] + " CPUs, " + free.memoryMb[i]
          + " MiB, available " + free.available[i] + "; node " + node;
      }
    }
    return null;
  }

  private void rebuildScan() {
    scanOrder.clear();
    scanOrder.addAll(nodes.values());
    free = new FreeTable(scanOrder);
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
    return requireNode(nodeId).adopt(gpuIds, Resources.NONE);
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

  /**
   * A gang placement as the hub's journal recorded it, reserving nothing yet: each rank is reserved exactly as
   * recorded ({@link #bind}) when its node registers. Ranks are consecutive per node, as {@link #commit} made them.
   *
   * @param nodeIds the node of each rank, in rank order
   * @param gpuIds the GPU ids of each rank, in rank order
   */
  public GangPlacement restore(GangSpec spec, List<String> nodeIds, List<int[]> gpuIds) {
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

  /**
   * Reserves the unbound ranks of a restored placement that are on {@code nodeId}, which just registered: their
   * recorded GPUs and the gang's per-actor CPUs, memory and custom resources, as far as they are free.
   *
   * @return what could not be reserved as recorded (GPUs gone or taken), or {@code null} if all was
   */
  public String bind(GangPlacement placement, String nodeId) {
    NodeState node = requireNode(nodeId);
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
    Resources need = spec.perActor();
    boolean custom = !need.custom().isEmpty();
    FreeTable table = free;
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

  /** What is missing now, as specifically as possible. One pass over the nodes: a refusal costs what a placement does. */
  private String shortage(GangSpec spec) {
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
    FreeTable table = free;
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
