package io.spoke.vertx.protocol;

import com.google.flatbuffers.FlatBufferBuilder;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.client.GpuInfo;
import io.spoke.vertx.client.NodeInfo;
import io.spoke.vertx.protocol.fb.Capacity;
import io.spoke.vertx.protocol.fb.Gpu;
import io.spoke.vertx.protocol.fb.NodeStatus;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

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
    io.spoke.vertx.protocol.fb.ActorInfo.startActorInfo(b);
    io.spoke.vertx.protocol.fb.ActorInfo.addActorId(b, id);
    if (type != 0) {
      io.spoke.vertx.protocol.fb.ActorInfo.addActorType(b, type);
    }
    if (node != 0) {
      io.spoke.vertx.protocol.fb.ActorInfo.addNodeId(b, node);
    }
    if (host != 0) {
      io.spoke.vertx.protocol.fb.ActorInfo.addHost(b, host);
    }
    if (log != 0) {
      io.spoke.vertx.protocol.fb.ActorInfo.addLogFile(b, log);
    }
    if (reason != 0) {
      io.spoke.vertx.protocol.fb.ActorInfo.addReason(b, reason);
    }
    io.spoke.vertx.protocol.fb.ActorInfo.addGpuIds(b, gpus);
    io.spoke.vertx.protocol.fb.ActorInfo.addPid(b, info.pid());
    io.spoke.vertx.protocol.fb.ActorInfo.addPort(b, info.port());
    io.spoke.vertx.protocol.fb.ActorInfo.addExitCode(b, info.exitCode());
    io.spoke.vertx.protocol.fb.ActorInfo.addState(b, (byte) info.state().ordinal());
    return io.spoke.vertx.protocol.fb.ActorInfo.endActorInfo(b);
  }

  public static ActorInfo readActorInfo(io.spoke.vertx.protocol.fb.ActorInfo t) {
    int state = t.state();
    if (state < 0 || state >= ActorState.values().length) {
      throw new ProtocolException("malformed message: actor state " + state);
    }
    int n = length(t.gpuIdsLength(), "gpu ids");
    List<Integer> gpus = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      gpus.add(t.gpuIds(i));
    }
    return new ActorInfo(nonNull(t.actorId(), "actor id"), t.actorType(), t.nodeId(), t.host(), t.port(), t.pid(), t.logFile(),
      ActorState.values()[state], t.exitCode(), t.reason(), gpus);
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

  public static int writeCapacity(FlatBufferBuilder b, List<GpuInfo> gpus, int cpus, long memoryMb) {
    int[] gpuOffsets = new int[gpus.size()];
    for (int i = 0; i < gpuOffsets.length; i++) {
      GpuInfo g = gpus.get(i);
      gpuOffsets[i] = Gpu.createGpu(b, g.index(), string(b, g.uuid()), string(b, g.name()), g.memoryMb());
    }
    int vector = Capacity.createGpusVector(b, gpuOffsets);
    return Capacity.createCapacity(b, vector, cpus, memoryMb);
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
    int capacity = writeCapacity(b, node.gpus(), node.cpus(), node.memoryMb());
    int free = createInts(b, toArray(node.freeGpus()));
    NodeStatus.startNodeStatus(b);
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
      capacity == null ? 0 : capacity.cpus(), s.freeCpus(), capacity == null ? 0 : capacity.memoryMb(), s.freeMemoryMb(), s.actors());
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
    int nodeVector = io.spoke.vertx.protocol.fb.ClusterStatus.createNodesVector(b, nodes);
    int actorVector = io.spoke.vertx.protocol.fb.ClusterStatus.createActorsVector(b, actors);
    return io.spoke.vertx.protocol.fb.ClusterStatus.createClusterStatus(b, nodeVector, actorVector);
  }

  public static ClusterStatus readClusterStatus(io.spoke.vertx.protocol.fb.ClusterStatus s) {
    int n = length(s.nodesLength(), "nodes");
    List<NodeInfo> nodes = new ArrayList<>(n);
    NodeStatus node = new NodeStatus();
    for (int i = 0; i < n; i++) {
      nodes.add(readNodeStatus(s.nodes(node, i)));
    }
    int a = length(s.actorsLength(), "actors");
    List<ActorInfo> actors = new ArrayList<>(a);
    io.spoke.vertx.protocol.fb.ActorInfo actor = new io.spoke.vertx.protocol.fb.ActorInfo();
    for (int i = 0; i < a; i++) {
      actors.add(readActorInfo(s.actors(actor, i)));
    }
    return new ClusterStatus(nodes, actors);
  }
}
