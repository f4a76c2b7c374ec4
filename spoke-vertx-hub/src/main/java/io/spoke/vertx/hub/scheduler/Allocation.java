package io.spoke.vertx.hub.scheduler;

import java.util.Arrays;

/** Resources reserved on one node, with the exact GPU ids. Immutable; give it back with {@link Scheduler#release}. */
public final class Allocation {

  private final NodeState node;
  private final String nodeId;
  private final int[] gpuIds;
  private final int cpus;
  private final long memoryMb;

  Allocation(NodeState node, int[] gpuIds, int cpus, long memoryMb) {
    this.node = node;
    this.nodeId = node.id();
    this.gpuIds = gpuIds;
    this.cpus = cpus;
    this.memoryMb = memoryMb;
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

  @Override
  public String toString() {
    return "Allocation[" + nodeId + ", gpus=" + Arrays.toString(gpuIds) + ", cpus=" + cpus + ", memoryMb=" + memoryMb + "]";
  }
}
