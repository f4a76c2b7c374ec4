package io.spoke.vertx.hub.scheduler;

import io.spoke.vertx.NodeUnavailableException;
import io.spoke.vertx.SchedulingException;
import java.util.BitSet;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * Where actors go: a pure, deterministic model of the cluster's nodes and their free resources, with no I/O
 * and no clock. The hub feeds it events (a node joined, left, an actor needs room, an actor ended) on its
 * event loop; nothing here is thread-safe.
 */
public final class Scheduler {

  private final Map<String, NodeState> nodes = new TreeMap<>();

  /** Adds a node, or updates the capacity of a known one (its reservations stay). */
  public NodeState addNode(String id, BitSet gpus, int cpus, long memoryMb) {
    NodeState node = nodes.get(id);
    if (node == null) {
      node = new NodeState(id, gpus, cpus, memoryMb);
      nodes.put(id, node);
    } else {
      node.resize(gpus, cpus, memoryMb);
    }
    node.available(true);
    return node;
  }

  /** Forgets a node and everything reserved on it. */
  public void removeNode(String id) {
    nodes.remove(id);
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

  /**
   * Reserves {@code request} on node {@code nodeId}, or, when it is {@code null}, on the least loaded
   * available node where it fits (ties broken by fewest allocations, then id).
   *
   * @throws NodeUnavailableException if the named node is unknown or unavailable
   * @throws SchedulingException saying what was missing, if nothing fits
   */
  public Allocation allocate(Resources request, String nodeId) {
    if (nodeId != null) {
      NodeState node = nodes.get(nodeId);
      if (node == null) {
        throw new NodeUnavailableException("unknown node '" + nodeId + "'; the nodes are: "
          + (nodes.isEmpty() ? "none" : String.join(", ", nodes.keySet())));
      }
      if (!node.available()) {
        throw new NodeUnavailableException("node '" + nodeId + "' is not available (its agent is disconnected or dead)");
      }
      if (!node.fits(request)) {
        throw new SchedulingException("node " + nodeId + " cannot fit " + request + ": it has " + free(node));
      }
      return node.allocate(request);
    }
    NodeState best = null;
    for (NodeState node : nodes.values()) {
      if (node.available() && node.fits(request) && (best == null || LEAST_LOADED.compare(node, best) < 0)) {
        best = node;
      }
    }
    if (best == null) {
      throw new SchedulingException(noRoom(request));
    }
    return best.allocate(request);
  }

  /** Reserves exactly the GPUs an actor already uses (an agent re-registering with running actors). */
  public Allocation adopt(String nodeId, int[] gpuIds, int cpus, long memoryMb) {
    NodeState node = nodes.get(nodeId);
    if (node == null) {
      throw new NodeUnavailableException("unknown node '" + nodeId + "'");
    }
    return node.adopt(gpuIds, cpus, memoryMb);
  }

  /** Gives an allocation back. Allocations of nodes removed since are ignored. */
  public void release(Allocation allocation) {
    NodeState node = nodes.get(allocation.nodeId());
    if (node != null && node == allocation.node()) {
      node.release(allocation);
    }
  }

  private static final Comparator<NodeState> LEAST_LOADED = Comparator.comparingDouble(NodeState::load)
    .thenComparingInt(NodeState::allocations)
    .thenComparing(NodeState::id);

  private String noRoom(Resources request) {
    Collection<NodeState> candidates = nodes.values().stream().filter(NodeState::available).collect(Collectors.toList());
    if (candidates.isEmpty()) {
      return "no node is available for " + request + (nodes.isEmpty() ? ": no agent has registered with the hub; start one with"
        + " ./spoke agent --hub HOST:PORT" : ": every node is disconnected or dead");
    }
    NodeState best = candidates.stream()
      .max(Comparator.comparingInt(NodeState::freeGpuCount).thenComparingInt(NodeState::freeCpus)
        .thenComparingLong(NodeState::freeMemoryMb)).orElseThrow();
    boolean everFits = candidates.stream().anyMatch(n -> n.gpuCount() >= request.gpus() && n.cpus() >= request.cpus()
      && n.memoryMb() >= request.memoryMb());
    return "needs 1 node with " + request + " free; best node " + best.id() + " has " + free(best)
      + (everFits ? "" : " and no node is that large");
  }

  private static String free(NodeState node) {
    return node.freeGpuCount() + " of " + node.gpuCount() + " GPUs, " + node.freeCpus() + " of " + node.cpus() + " CPUs and "
      + node.freeMemoryMb() + " of " + node.memoryMb() + " MiB free";
  }
}
