// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * One rank of a gang allocation: where it runs, the GPUs reserved for it, and how its process group finds
 * its peers. What the agent puts in a launched actor's environment ({@code RANK}, {@code WORLD_SIZE},
 * {@code LOCAL_RANK}, {@code LOCAL_WORLD_SIZE}, {@code MASTER_ADDR}, {@code MASTER_PORT},
 * {@code SPOKE_TICKET}, {@code CUDA_VISIBLE_DEVICES}) comes from here. Immutable.
 */
public final class Slot {

  private final String ticketId;
  private final int globalRank;
  private final int worldSize;
  private final int localRank;
  private final int localWorldSize;
  private final String nodeId;
  private final String host;
  private final List<Integer> gpuIds;
  private final String masterAddr;
  private final int masterPort;
  private final String actorId;
  private final ActorState actorState;

  public Slot(String ticketId, int globalRank, int worldSize, int localRank, int localWorldSize, String nodeId, String host,
              List<Integer> gpuIds, String masterAddr, int masterPort, String actorId, ActorState actorState) {
    this.ticketId = ticketId;
    this.globalRank = globalRank;
    this.worldSize = worldSize;
    this.localRank = localRank;
    this.localWorldSize = localWorldSize;
    this.nodeId = nodeId;
    this.host = host;
    this.gpuIds = List.copyOf(gpuIds);
    this.masterAddr = masterAddr;
    this.masterPort = masterPort;
    this.actorId = actorId;
    this.actorState = actorState;
  }

  public String ticketId() {
    return ticketId;
  }

  /** {@code RANK}: 0 to {@link #worldSize()} - 1; rank 0 runs on the master node. */
  public int globalRank() {
    return globalRank;
  }

  /** {@code WORLD_SIZE}: ranks in the gang. */
  public int worldSize() {
    return worldSize;
  }

  /** {@code LOCAL_RANK}: index among the gang's ranks on the same node. */
  public int localRank() {
    return localRank;
  }

  /** {@code LOCAL_WORLD_SIZE}: the gang's ranks on this node. */
  public int localWorldSize() {
    return localWorldSize;
  }

  public String nodeId() {
    return nodeId;
  }

  /** The address of the slot's node. */
  public String host() {
    return host;
  }

  /** Physical GPU ids: the value of {@code CUDA_VISIBLE_DEVICES}. */
  public List<Integer> gpuIds() {
    return gpuIds;
  }

  /** The GPU ids as the actor's process sees them: 0 to n - 1, in the order of {@link #gpuIds()}. */
  public List<Integer> visibleGpuIds() {
    List<Integer> visible = new ArrayList<>(gpuIds.size());
    for (int i = 0; i < gpuIds.size(); i++) {
      visible.add(i);
    }
    return visible;
  }

  /** {@code MASTER_ADDR}: the address of rank 0's node. */
  public String masterAddr() {
    return masterAddr;
  }

  /** {@code MASTER_PORT}: a port reserved for the gang on rank 0's node. */
  public int masterPort() {
    return masterPort;
  }

  /** The actor launched in this slot, or {@code null}. */
  public String actorId() {
    return actorId;
  }

  /** The state of that actor, or {@code null} when none was launched. */
  public ActorState actorState() {
    return actorState;
  }

  public JsonObject toJson() {
    JsonObject json = new JsonObject()
      .put("rank", globalRank)
      .put("worldSize", worldSize)
      .put("localRank", localRank)
      .put("localWorldSize", localWorldSize)
      .put("node", nodeId)
      .put("host", host)
      .put("gpus", new JsonArray(gpuIds))
      .put("masterAddr", masterAddr)
      .put("masterPort", masterPort);
    if (actorId != null) {
      json.put("actor", actorId).put("actorState", actorState == null ? null : actorState.name());
    }
    return json;
  }

  @Override
  public String toString() {
    return "Slot" + toJson().encode();
  }
}
