// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import com.google.flatbuffers.FlatBufferBuilder;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.client.GpuInfo;
import io.spoke.vertx.client.HubInfo;
import io.spoke.vertx.client.NodeInfo;
import io.spoke.vertx.client.PlacementStrategy;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.client.TicketState;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Capacity;
import io.spoke.vertx.protocol.fb.FbActorInfo;
import io.spoke.vertx.protocol.fb.FbAllocation;
import io.spoke.vertx.protocol.fb.FbClusterStatus;
import io.spoke.vertx.protocol.fb.FbHubInfo;
import io.spoke.vertx.protocol.fb.FbSlot;
import io.spoke.vertx.protocol.fb.Gpu;
import io.spoke.vertx.protocol.fb.NodeStatus;
import io.spoke.vertx.protocol.fb.Quantity;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Conversions between the FlatBuffers tables of the protocol and the Java types of the API, shared by the
 * client, the hub and the agent. Readers check vector lengths against the frame before allocating, since
 * the FlatBuffers Java runtime has no verifier.
 */
public final class Messages {

  /** More elements than any sane message holds in one vector. */
  static final int MAX_VECTOR = 1 << 20;

  private Messages() {
  }

  // ------------------------------------------------------------------ strings and vectors

  /** A string offset, or 0 for {@code null}. */
  public static int string(FlatBufferBuilder b, String s) {
    return s == null ? 0 : b.createString(s);
  }

  public static int intVector(FlatBufferBuilder b, Collection<Integer> values) {
    return createInts(b, toArray(values));
  }

  private static int createInts(FlatBufferBuilder b, int[] values) {
    b.startVector(4, values.length, 4);
    for (int i = values.length - 1; i >= 0; i--) {
      b.addInt(values[i]);
    }
    return b.endVector();
  }

  /** Checks a vector length read from the wire. */
  public static int length(int length, String what) {
    if (length < 0 || length > MAX_VECTOR) {
      throw new ProtocolException("malformed message: " + what + " has " + length + " elements");
    }
    return length;
  }

  public static String nonNull(String value, String what) {
    if (value == null) {
      throw new ProtocolException("malformed message: " + what + " is missing");
    }
    return value;
  }

  // ------------------------------------------------------------------ ActorInfo

  public static int writeActorInfo(FlatBufferBuilder b, ActorInfo info) {
    int id = b.createString(info.id());
    int type = string(b, info.type());
    int node = string(b, info.nodeId());
    int host = string(b, info.host());
    int log = string(b, info.logFile());
    int reason = string(b, info.reason());
    int gpus = createInts(b, toArray(info.gpuIds()));
    int ticket = string(b, info.ticket());
    int socket = string(b, info.localSocket());
    int hostId = string(b, info.hostId());
    int command = info.command().isEmpty() ? 0 : stringVector(b, info.command());
    int ports = info.ports().isEmpty() ? 0 : createInts(b, toArray(info.ports()));
    int spawnId = string(b, info.spawnId());
    FbActorInfo.startFbActorInfo(b);
    if (spawnId != 0) {
      FbActorInfo.addSpawnId(b, spawnId);
    }
    if (info.exitedAtMs() != 0) {
      FbActorInfo.addExitedAtMs(b, info.exitedAtMs());
    }
    if (command != 0) {
      FbActorInfo.addCommand(b, command);
    }
    if (ports != 0) {
      FbActorInfo.addPorts(b, ports);
    }
    if (socket != 0) {
      FbActorInfo.addLocalSocket(b, socket);
    }
    if (hostId != 0) {
      FbActorInfo.addHostId(b, hostId);
    }
    if (ticket != 0) {
      FbActorInfo.addTicket(b, ticket);
    }
    FbActorInfo.addRank(b, info.rank());
    FbActorInfo.addRestarts(b, info.restarts());
    FbActorInfo.addActorId(b, id);
    if (type != 0) {
      FbActorInfo.addActorType(b, type);
    }
    if (node != 0) {
      FbActorInfo.addNodeId(b, node);
    }
    if (host != 0) {
      FbActorInfo.addHost(b, host);
    }
    if (log != 0) {
      FbActorInfo.addLogFile(b, log);
    }
    if (reason != 0) {
      FbActorInfo.addReason(b, reason);
    }
    FbActorInfo.addGpuIds(b, gpus);
    FbActorInfo.addPid(b, info.pid());
    FbActorInfo.addPort(b, info.port());
    FbActorInfo.addExitCode(b, info.exitCode());
    FbActorInfo.addState(b, (byte) info.state().ordinal());
    return FbActorInfo.endFbActorInfo(b);
  }

  /**
   * The actor information a reply carries; a {@link ProtocolException} when {@code frame} carries something else
   * ({@code from}: who sent it, "the hub").
   */
  public static ActorInfo readActorInfo(Frame frame, String from) {
    if (frame.bodyType() != Body.FbActorInfo) {
      throw new ProtocolException("expected actor information from " + from + ", got message type " + frame.bodyType());
    }
    return readActorInfo((FbActorInfo) frame.header().body(new FbActorInfo()));
  }

  public static ActorInfo readActorInfo(FbActorInfo t) {
    int state = t.state();
    if (state < 0 || state >= ActorState.values().length) {
      throw new ProtocolException("malformed message: actor state " + state);
    }
    int n = length(t.gpuIdsLength(), "gpu ids");
    List<Integer> gpus = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      gpus.add(t.gpuIds(i));
    }
    ActorInfo info = new ActorInfo(nonNull(t.actorId(), "actor id"), t.actorType(), t.nodeId(), t.host(), t.port(), t.pid(), t.logFile(),
      ActorState.values()[state], t.exitCode(), t.reason(), gpus, t.ticket(), t.rank()).withLocalSocket(t.localSocket(), t.hostId());
    if (t.restarts() > 0) {
      info = info.withRestarts(t.restarts());
    }
    if (t.spawnId() != null) {
      info = info.withSpawnId(t.spawnId());
    }
    if (t.exitedAtMs() != 0) {
      info = info.withExitedAt(t.exitedAtMs());
    }
    int commandLength = length(t.commandLength(), "command");
    if (commandLength == 0) {
      return info;
    }
    List<String> command = new ArrayList<>(commandLength);
    for (int i = 0; i < commandLength; i++) {
      command.add(nonNull(t.command(i), "command argument"));
    }
    int portCount = length(t.portsLength(), "ports");
    List<Integer> ports = new ArrayList<>(portCount);
    for (int i = 0; i < portCount; i++) {
      ports.add(t.ports(i));
    }
    return info.withProcess(command, ports);
  }

  /** The bytes of a FlatBuffers byte vector ({@code xxxAsByteBuffer()}); empty when the field is absent. */
  public static byte[] bytes(java.nio.ByteBuffer vector) {
    byte[] bytes = new byte[vector == null ? 0 : vector.remaining()];
    if (vector != null) {
      vector.get(bytes);
    }
    return bytes;
  }

  public static int[] toArray(Collection<Integer> values) {
    int[] array = new int[values.size()];
    int i = 0;
    for (int v : values) {
      array[i++] = v;
    }
    return array;
  }

  public static int intVector(FlatBufferBuilder b, int[] values) {
    return createInts(b, values);
  }

  public static int stringVector(FlatBufferBuilder b, Collection<String> values) {
    int[] offsets = new int[values.size()];
    int i = 0;
    for (String s : values) {
      offsets[i++] = b.createString(s);
    }
    b.startVector(4, offsets.length, 4);
    for (int j = offsets.length - 1; j >= 0; j--) {
      b.addOffset(offsets[j]);
    }
    return b.endVector();
  }

  // ------------------------------------------------------------------ capacity and nodes

  public static int writeCapacity(FlatBufferBuilder b, List<GpuInfo> gpus, int cpus, long memoryMb, Map<String, Long> custom) {
    int[] gpuOffsets = new int[gpus.size()];
    for (int i = 0; i < gpuOffsets.length; i++) {
      GpuInfo g = gpus.get(i);
      gpuOffsets[i] = Gpu.createGpu(b, g.index(), string(b, g.uuid()), string(b, g.name()), g.memoryMb());
    }
    int vector = Capacity.createGpusVector(b, gpuOffsets);
    int customVector = quantities(b, custom);
    return Capacity.createCapacity(b, vector, cpus, memoryMb, customVector);
  }

  /** A vector of Quantity tables. */
  public static int quantities(FlatBufferBuilder b, Map<String, Long> amounts) {
    int[] offsets = new int[amounts.size()];
    int i = 0;
    for (Map.Entry<String, Long> e : amounts.entrySet()) {
      offsets[i++] = Quantity.createQuantity(b, b.createString(e.getKey()), e.getValue());
    }
    b.startVector(4, offsets.length, 4);
    for (int j = offsets.length - 1; j >= 0; j--) {
      b.addOffset(offsets[j]);
    }
    return b.endVector();
  }

  /** Reads a vector of Quantity tables through an accessor of the table that holds it. */
  public static Map<String, Long> readQuantities(int count, java.util.function.BiFunction<Quantity, Integer, Quantity> accessor) {
    Map<String, Long> amounts = new LinkedHashMap<>();
    Quantity q = new Quantity();
    for (int i = 0; i < length(count, "quantities"); i++) {
      accessor.apply(q, i);
      amounts.put(nonNull(q.name(), "quantity name"), q.amount());
    }
    return amounts;
  }

  public static Map<String, Long> readCustom(Capacity capacity) {
    return capacity == null ? Map.of() : readQuantities(capacity.customLength(), capacity::custom);
  }

  public static List<GpuInfo> readGpus(Capacity capacity) {
    if (capacity == null) {
      return List.of();
    }
    int n = length(capacity.gpusLength(), "gpus");
    List<GpuInfo> gpus = new ArrayList<>(n);
    Gpu gpu = new Gpu();
    for (int i = 0; i < n; i++) {
      capacity.gpus(gpu, i);
      gpus.add(new GpuInfo(gpu.index(), gpu.uuid(), gpu.name(), gpu.memoryMb()));
    }
    return gpus;
  }

  public static int writeNodeStatus(FlatBufferBuilder b, NodeInfo node) {
    int id = b.createString(node.id());
    int host = string(b, node.host());
    int capacity = writeCapacity(b, node.gpus(), node.cpus(), node.memoryMb(), node.customResources());
    int free = createInts(b, toArray(node.freeGpus()));
    int freeCustom = quantities(b, node.freeCustomResources());
    NodeStatus.startNodeStatus(b);
    NodeStatus.addFreeCustom(b, freeCustom);
    NodeStatus.addNodeId(b, id);
    if (host != 0) {
      NodeStatus.addHost(b, host);
    }
    NodeStatus.addCapacity(b, capacity);
    NodeStatus.addFreeGpus(b, free);
    NodeStatus.addFreeMemoryMb(b, node.freeMemoryMb());
    NodeStatus.addPort(b, node.port());
    NodeStatus.addFreeCpus(b, node.freeCpus());
    NodeStatus.addActors(b, node.actors());
    NodeStatus.addAlive(b, node.alive());
    return NodeStatus.endNodeStatus(b);
  }

  public static NodeInfo readNodeStatus(NodeStatus s) {
    Capacity capacity = s.capacity();
    int n = length(s.freeGpusLength(), "free gpus");
    List<Integer> free = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      free.add(s.freeGpus(i));
    }
    return new NodeInfo(nonNull(s.nodeId(), "node id"), s.host(), s.port(), s.alive(), readGpus(capacity), free,
      capacity == null ? 0 : capacity.cpus(), s.freeCpus(), capacity == null ? 0 : capacity.memoryMb(), s.freeMemoryMb(), s.actors(),
      readCustom(capacity), readQuantities(s.freeCustomLength(), s::freeCustom));
  }

  public static int writeClusterStatus(FlatBufferBuilder b, ClusterStatus status) {
    int[] nodes = new int[status.nodes().size()];
    for (int i = 0; i < nodes.length; i++) {
      nodes[i] = writeNodeStatus(b, status.nodes().get(i));
    }
    int[] actors = new int[status.actors().size()];
    for (int i = 0; i < actors.length; i++) {
      actors[i] = writeActorInfo(b, status.actors().get(i));
    }
    int[] tickets = new int[status.tickets().size()];
    for (int i = 0; i < tickets.length; i++) {
      tickets[i] = writeAllocation(b, status.tickets().get(i), null);
    }
    int nodeVector = FbClusterStatus.createNodesVector(b, nodes);
    int actorVector = FbClusterStatus.createActorsVector(b, actors);
    int ticketVector = FbClusterStatus.createTicketsVector(b, tickets);
    int hubVector = 0;
    if (!status.hubs().isEmpty()) {
      int[] hubs = new int[status.hubs().size()];
      for (int i = 0; i < hubs.length; i++) {
        HubInfo hub = status.hubs().get(i);
        hubs[i] = FbHubInfo.createFbHubInfo(b, string(b, hub.address()), hub.leader());
      }
      hubVector = FbClusterStatus.createHubsVector(b, hubs);
    }
    return FbClusterStatus.createFbClusterStatus(b, nodeVector, actorVector, ticketVector, hubVector);
  }

  public static ClusterStatus readClusterStatus(FbClusterStatus s) {
    int n = length(s.nodesLength(), "nodes");
    List<NodeInfo> nodes = new ArrayList<>(n);
    NodeStatus node = new NodeStatus();
    for (int i = 0; i < n; i++) {
      nodes.add(readNodeStatus(s.nodes(node, i)));
    }
    int a = length(s.actorsLength(), "actors");
    List<ActorInfo> actors = new ArrayList<>(a);
    FbActorInfo actor = new FbActorInfo();
    for (int i = 0; i < a; i++) {
      actors.add(readActorInfo(s.actors(actor, i)));
    }
    int t = length(s.ticketsLength(), "tickets");
    List<Allocation> tickets = new ArrayList<>(t);
    FbAllocation ticket = new FbAllocation();
    for (int i = 0; i < t; i++) {
      tickets.add(readAllocation(s.tickets(ticket, i)));
    }
    int h = length(s.hubsLength(), "hubs");
    List<HubInfo> hubs = new ArrayList<>(h);
    FbHubInfo hub = new FbHubInfo();
    for (int i = 0; i < h; i++) {
      s.hubs(hub, i);
      hubs.add(new HubInfo(nonNull(hub.address(), "a hub's address"), hub.leader()));
    }
    return new ClusterStatus(nodes, actors, tickets, hubs);
  }

  // ------------------------------------------------------------------ gangs

  public static int writeSlot(FlatBufferBuilder b, Slot slot) {
    int ticket = string(b, slot.ticketId());
    int node = string(b, slot.nodeId());
    int host = string(b, slot.host());
    int gpus = createInts(b, toArray(slot.gpuIds()));
    int master = string(b, slot.masterAddr());
    int actor = string(b, slot.actorId());
    byte actorState = slot.actorState() == null ? (byte) 0 : (byte) slot.actorState().ordinal();
    return FbSlot.createFbSlot(b, ticket, slot.globalRank(), slot.worldSize(), slot.localRank(),
      slot.localWorldSize(), node, host, gpus, master, slot.masterPort(), actor, actorState);
  }

  public static Slot readSlot(FbSlot t) {
    int n = length(t.gpuIdsLength(), "slot gpu ids");
    List<Integer> gpus = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      gpus.add(t.gpuIds(i));
    }
    String actorId = t.actorId();
    int state = t.actorState();
    if (state < 0 || state >= ActorState.values().length) {
      throw new ProtocolException("malformed message: actor state " + state);
    }
    return new Slot(t.ticket(), t.rank(), t.worldSize(), t.localRank(), t.localWorldSize(), t.nodeId(), t.host(), gpus,
      t.masterAddr(), t.masterPort(), actorId, actorId == null ? null : ActorState.values()[state]);
  }

  /** @param owner the owning session, or {@code null} to leave it out */
  public static int writeAllocation(FlatBufferBuilder b, Allocation allocation, String owner) {
    int ticket = b.createString(allocation.ticketId());
    int[] slots = new int[allocation.slots().size()];
    for (int i = 0; i < slots.length; i++) {
      slots[i] = writeSlot(b, allocation.slots().get(i));
    }
    int slotVector = FbAllocation.createSlotsVector(b, slots);
    int reason = string(b, allocation.reason());
    int ownerOffset = string(b, owner);
    int restart = ProcessCodec.writeRestart(b, allocation.restart());
    return FbAllocation.createFbAllocation(b, ticket, (byte) allocation.state().ordinal(),
      (byte) allocation.strategy().ordinal(), allocation.detached(), slotVector, reason, ownerOffset, restart, allocation.restarts());
  }

  public static Allocation readAllocation(FbAllocation t) {
    int state = t.state();
    int strategy = t.strategy();
    if (state < 0 || state >= TicketState.values().length || strategy < 0 || strategy >= PlacementStrategy.values().length) {
      throw new ProtocolException("malformed message: ticket state " + state + ", strategy " + strategy);
    }
    int n = length(t.slotsLength(), "slots");
    List<Slot> slots = new ArrayList<>(n);
    FbSlot slot = new FbSlot();
    for (int i = 0; i < n; i++) {
      slots.add(readSlot(t.slots(slot, i)));
    }
    Allocation allocation = new Allocation(nonNull(t.ticket(), "ticket"), TicketState.values()[state],
      PlacementStrategy.values()[strategy], t.detached(), slots, t.reason());
    if (t.restart() == null) {
      return allocation;
    }
    try {
      return allocation.withRestarts(ProcessCodec.readRestart(t.restart()), Math.max(0, t.restarts()));
    } catch (IllegalArgumentException e) {
      throw new ProtocolException("malformed message: ticket " + allocation.ticketId() + ": " + e.getMessage());
    }
  }
}
