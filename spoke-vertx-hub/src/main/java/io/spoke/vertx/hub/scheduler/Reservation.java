// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.scheduler;

import java.util.Arrays;
import java.util.Map;

/**
 * Resources reserved on one node for one actor, with the exact GPU ids. Immutable; give it back with
 * {@link Scheduler#release}. A gang rank read back from the hub's journal holds an <em>unbound</em> one (no node
 * yet, nothing reserved) until its node registers and {@link Scheduler#bind} reserves it.
 */
public final class Reservation {

  private final NodeState node;
  private final String nodeId;
  private final int[] gpuIds;
  private final int cpus;
  private final long memoryMb;
  private final Map<String, Long> custom;

  Reservation(NodeState node, int[] gpuIds, int cpus, long memoryMb, Map<String, Long> custom) {
    this(node, node.id(), gpuIds, cpus, memoryMb, custom);
  }

  private Reservation(NodeState node, String nodeId, int[] gpuIds, int cpus, long memoryMb, Map<String, Long> custom) {
    this.node = node;
    this.nodeId = nodeId;
    this.gpuIds = gpuIds;
    this.cpus = cpus;
    this.memoryMb = memoryMb;
    this.custom = Map.copyOf(custom);
  }

  /** What {@code nodeId} held as recorded, reserving nothing until bound. */
  static Reservation unbound(String nodeId, int[] gpuIds, Resources resources) {
    return new Reservation(null, nodeId, gpuIds.clone(), resources.cpus(), resources.memoryMb(), resources.custom());
  }

  /** Whether it reserves anything: false for a journaled rank whose node has not registered since. */
  public boolean bound() {
    return node != null;
  }

  public String nodeId() {
    return nodeId;
  }

  /** Physical GPU ids, ascending. */
  public int[] gpuIds() {
    return gpuIds.clone();
  }

  NodeState node() {
    return node;
  }

  int[] gpuIdsUnsafe() {
    return gpuIds;
  }

  public int cpus() {
    return cpus;
  }

  public long memoryMb() {
    return memoryMb;
  }

  public Map<String, Long> custom() {
    return custom;
  }

  @Override
  public String toString() {
    return "Reservation[" + nodeId + (node == null ? " (unbound)" : "") + ", gpus=" + Arrays.toString(gpuIds) + ", cpus=" + cpus
      + ", memoryMb=" + memoryMb + (custom.isEmpty() ? "" : ", " + custom) + "]";
  }
}
