package io.spoke.vertx.hub.scheduler;

import java.util.Arrays;
import java.util.Map;

/**
 * Resources reserved on one node for one actor, with the exact GPU ids. Immutable; give it back with
 * {@link Scheduler#release}.
 */
public final class Reservation {

  private final NodeState node;
  private final String nodeId;
  private final int[] gpuIds;
  private final int cpus;
  private final long memoryMb;
  private final Map<String, Long> custom;

  Reservation(NodeState node, int[] gpuIds, int cpus, long memoryMb, Map<String, Long> custom) {
    this.node = node;
    this.nodeId = node.id();
    this.gpuIds = gpuIds;
    this.cpus = cpus;
    this.memoryMb = memoryMb;
    this.custom = Map.copyOf(custom);
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
    return "Reservation[" + nodeId + ", gpus=" + Arrays.toString(gpuIds) + ", cpus=" + cpus + ", memoryMb=" + memoryMb
      + (custom.isEmpty() ? "" : ", " + custom) + "]";
  }
}
