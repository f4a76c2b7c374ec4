// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.scheduler;

import io.spoke.vertx.InfeasibleException;
import io.spoke.vertx.NodeUnavailableException;
import io.spoke.vertx.SchedulingException;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Where actors go: a pure, deterministic model of the cluster's nodes and their free resources, with no
 * I/O and no clock. The hub feeds it events (a node joined or left, a request arrived, resources were
 * released, a waiting request expired) on its event loop; nothing here is thread-safe.
 * <p>
 * Gangs are placed all or nothing: a plan is computed first, then committed in one step, so no partial
 * gang is ever reserved. Requests that ask to wait are queued first in, first out; only the head of the
 * queue may be placed, so a large gang is not starved by smaller ones that arrive after it.
 * <p>
 * In parts: the placement search for one gang ({@link GangPlanner}), the queue of waiting requests
 * ({@link WaitQueue}), a gang's reservations ({@link GangReservations}), and the messages of refusals
 * ({@link Shortage}); this class holds the nodes and their table of free resources ({@link FreeTable}).
 */
public final class Scheduler {

  private final Map<String, NodeState> nodes = new TreeMap<>();
  /** The nodes in id order as an array list, for the placement scan (10,000 nodes: a TreeMap walk costs twice as much). */
  private final ArrayList<NodeState> scanOrder = new ArrayList<>();
  /** Free resources of {@link #scanOrder}'s nodes, row by row. */
  private FreeTable free = new FreeTable(List.of());
  private final WaitQueue queue = new WaitQueue();
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
      throw new SchedulingException(Shortage.noRoomForOne(request, nodes));
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
   *   asked to wait, unless no node is registered at all: then it waits for nodes)
   * @throws SchedulingException when it does not fit now and may not wait, saying what is missing
   * @throws NodeUnavailableException when the preferred node is unknown
   */
  public GangPlacement submit(GangSpec spec, boolean wait) {
    if (spec.preferredNode() != null) {
      requireNode(spec.preferredNode());
    }
    if (queue.contains(spec.ticket())) {
      throw new IllegalArgumentException("ticket " + spec.ticket() + " is already waiting");
    }
    String infeasible = infeasibility(spec);
    // With no node at all, a request that may wait waits for the first: agents still starting, or coming back to a
    // restarted hub or a new leader.
    if (infeasible != null && !(wait && nodes.isEmpty())) {
      throw new InfeasibleException(infeasible);
    }
    if (queue.isEmpty()) {
      List<GangPlanner.Share> plan = plan(spec, false);
      if (plan != null) {
        return GangReservations.commit(spec, plan);
      }
    }
    if (wait) {
      queue.add(spec);
      return null;
    }
    String reason = queue.isEmpty() ? shortage(spec) : queue.waitingAhead();
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
    return Shortage.neverFits(spec, nodes.values());
  }

  /**
   * Places waiting requests from the head of the queue while the head fits. Heads that became infeasible
   * (their nodes left) are taken out and reported in {@code infeasible}.
   */
  public List<GangPlacement> drain(Map<String, String> infeasible) {
    List<GangPlacement> placed = new ArrayList<>();
    Iterator<GangSpec> it = queue.iterator();
    while (it.hasNext()) {
      GangSpec head = it.next();
      String reason = nodes.isEmpty() ? null : infeasibility(head);
      if (reason != null) {
        it.remove();
        infeasible.put(head.ticket(), reason);
        continue;
      }
      List<GangPlanner.Share> plan = plan(head, false);
      if (plan == null) {
        break;
      }
      it.remove();
      placed.add(GangReservations.commit(head, plan));
    }
    return placed;
  }

  /** Takes a waiting request out of the queue; false if it was not waiting. */
  public boolean cancel(String ticket) {
    return queue.remove(ticket);
  }

  /** Tickets waiting, first in first out. */
  public List<String> waiting() {
    return queue.tickets();
  }

  /**
   * A gang placement as the hub's journal recorded it, reserving nothing yet: each rank is reserved exactly as
   * recorded ({@link #bind}) when its node registers. Ranks are consecutive per node, as a committed placement's are.
   *
   * @param nodeIds the node of each rank, in rank order
   * @param gpuIds the GPU ids of each rank, in rank order
   */
  public GangPlacement restore(GangSpec spec, List<String> nodeIds, List<int[]> gpuIds) {
    return GangReservations.restore(spec, nodeIds, gpuIds);
  }

  /**
   * Reserves the unbound ranks of a restored placement that are on {@code nodeId}, which just registered: their
   * recorded GPUs and the gang's per-actor CPUs, memory and custom resources, as far as they are free.
   *
   * @return what could not be reserved as recorded (GPUs gone or taken), or {@code null} if all was
   */
  public String bind(GangPlacement placement, String nodeId) {
    return GangReservations.bind(placement, requireNode(nodeId), nodeId);
  }

  /** Gives every reservation of a gang back. Reservations of nodes removed since are ignored. */
  public void release(GangPlacement placement) {
    for (GangPlacement.Rank rank : placement.ranks()) {
      release(rank.reservation());
    }
  }

  /**
   * How the gang would be placed, without reserving anything; {@code null} if it does not fit.
   *
   * @param empty plan against every registered node's whole capacity (feasibility) instead of what is free
   *   on available nodes now
   */
  private List<GangPlanner.Share> plan(GangSpec spec, boolean empty) {
    NodeState preferred = empty || spec.preferredNode() == null ? null : nodes.get(spec.preferredNode());
    return GangPlanner.plan(spec, empty, scanOrder, free, preferred);
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

  /** What is missing now, as specifically as possible. One pass over the nodes: a refusal costs what a placement does. */
  private String shortage(GangSpec spec) {
    return Shortage.now(spec, scanOrder, free);
  }
}
