// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorLog;
import io.spoke.vertx.client.GpuInfo;
import io.spoke.vertx.client.Liveness;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.protocol.fb.ActorEvent;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Heartbeat;
import io.spoke.vertx.protocol.fb.LogChunk;
import io.spoke.vertx.protocol.fb.PortHold;
import io.spoke.vertx.protocol.fb.PortReserved;
import io.spoke.vertx.protocol.fb.ReadLog;
import io.spoke.vertx.protocol.fb.RegisterNode;
import io.spoke.vertx.protocol.fb.Registered;
import io.spoke.vertx.protocol.fb.ReleasePort;
import io.spoke.vertx.protocol.fb.ReservePort;
import io.spoke.vertx.protocol.fb.Shutdown;
import io.spoke.vertx.protocol.fb.Spawn;
import io.spoke.vertx.protocol.fb.Stop;
import java.util.List;
import java.util.Map;

/**
 * The messages between an agent and the hub: registration, heartbeats, actor events, and the hub's commands (spawn,
 * stop, read a log, reserve and release ports).
 */
public final class AgentHubCodec {

  /** A heartbeat carries nothing: its arrival is the news. */
  private static final Message HEARTBEAT = Message.of(Body.Heartbeat, b -> {
    Heartbeat.startHeartbeat(b);
    return Heartbeat.endHeartbeat(b);
  });

  private AgentHubCodec() {
  }

  // ---------------------------------------------------------------- written by the agent, read by the hub

  /**
   * An agent's registration: node {@code nodeId} at {@code host}, whose actor hosts connect back to {@code port},
   * with its capacity, every instance it holds ({@code actors}, in every state), the rendezvous ports it holds by
   * holder, and the exits the hub has not acknowledged ({@code exits}, oldest first; {@code exitsDropped} more were not
   * kept).
   */
  public static Message registerNode(String nodeId, String host, int port, List<GpuInfo> gpus, int cpus, long memoryMb,
                                     Map<String, Long> custom, List<ActorInfo> actors, Map<String, Integer> ports, List<ActorInfo> exits,
                                     long exitsDropped) {
    return Message.of(Body.RegisterNode, b -> {
      int id = b.createString(nodeId);
      int hostOffset = b.createString(host);
      int capacity = Messages.writeCapacity(b, gpus, cpus, memoryMb, custom);
      int[] infos = new int[actors.size()];
      for (int i = 0; i < infos.length; i++) {
        infos[i] = Messages.writeActorInfo(b, actors.get(i));
      }
      int actorVector = RegisterNode.createActorsVector(b, infos);
      int[] holds = new int[ports.size()];
      int h = 0;
      for (Map.Entry<String, Integer> e : ports.entrySet()) {
        holds[h++] = PortHold.createPortHold(b, b.createString(e.getKey()), e.getValue());
      }
      int portVector = RegisterNode.createPortsVector(b, holds);
      int[] ended = new int[exits.size()];
      for (int i = 0; i < ended.length; i++) {
        ended[i] = Messages.writeActorInfo(b, exits.get(i));
      }
      return RegisterNode.createRegisterNode(b, id, hostOffset, port, capacity, actorVector, portVector,
        RegisterNode.createExitsVector(b, ended), exitsDropped);
    });
  }

  /** A registration, read in place. */
  public static RegisterNodeView readRegisterNode(Frame frame) {
    return new RegisterNodeView((RegisterNode) frame.header().body(new RegisterNode()));
  }

  public static Message heartbeat() {
    return HEARTBEAT;
  }

  /** A change of an actor the agent runs (restarting, running again, exited: the exit is sent as a request, to be acknowledged). */
  public static Message actorEvent(ActorInfo info) {
    return Message.of(Body.ActorEvent, b -> ActorEvent.createActorEvent(b, Messages.writeActorInfo(b, info)));
  }

  /** The actor an ActorEvent is about, or null when it names none. */
  public static ActorInfo readActorEvent(Frame frame) {
    ActorEvent event = (ActorEvent) frame.header().body(new ActorEvent());
    return event.actor() == null ? null : Messages.readActorInfo(event.actor());
  }

  /** The agent's answer to a spawn (the actor runs) or a stop (it exited): the actor as it is now. */
  public static Message actorInfo(ActorInfo info) {
    return Message.of(Body.FbActorInfo, b -> Messages.writeActorInfo(b, info));
  }

  /** The port the agent reserved. */
  public static Message portReserved(int port) {
    return Message.of(Body.PortReserved, b -> PortReserved.createPortReserved(b, port));
  }

  /** The port of a PortReserved reply; a {@link ProtocolException} when the reply is something else. */
  public static int readPortReserved(Frame frame) {
    if (frame.bodyType() != Body.PortReserved) {
      throw new ProtocolException("the agent answered a port reservation with message type " + frame.bodyType());
    }
    return ((PortReserved) frame.header().body(new PortReserved())).port();
  }

  /** Part of a log, whose bytes are the frame's payload: {@code nextOffset} is where the next part starts. */
  public static Message logChunk(String path, long nextOffset, long size, boolean running) {
    return Message.of(Body.LogChunk, b -> LogChunk.createLogChunk(b, b.createString(path), nextOffset, size, running));
  }

  /**
   * A log chunk the agent answered a ReadLog from {@code offset} with, its bytes copied out of the frame; a {@link
   * ProtocolException} when the reply is something else.
   */
  public static ActorLog readLogChunk(Frame frame, long offset) {
    if (frame.bodyType() != Body.LogChunk) {
      throw new ProtocolException("the agent answered with message type " + frame.bodyType() + " instead of a log chunk");
    }
    LogChunk chunk = (LogChunk) frame.header().body(new LogChunk());
    return new ActorLog(chunk.path(), offset, chunk.nextOffset(), chunk.size(), chunk.running(), frame.copyPayload());
  }

  // ---------------------------------------------------------------- written by the hub, read by the agent

  /** The hub accepted the node: heartbeat every {@code heartbeatIntervalMs}. */
  public static Message registered(int heartbeatIntervalMs) {
    return Message.of(Body.Registered, b -> Registered.createRegistered(b, heartbeatIntervalMs));
  }

  /** The heartbeat interval of a Registered reply; a {@link ProtocolException} when the reply is something else. */
  public static int readRegistered(Frame frame) {
    if (frame.bodyType() != Body.Registered) {
      throw new ProtocolException("the hub answered registration with message type " + frame.bodyType());
    }
    return ((Registered) frame.header().body(new Registered())).heartbeatIntervalMs();
  }

  /**
   * Start actor {@code actorId} of {@code actorType} on {@code nodeId} with exactly {@code gpuIds}, within {@code
   * timeoutMs}; {@code slot} is its gang rank, or null ({@link SpawnCodec#writeSpawn}).
   */
  public static Message spawn(String actorType, String actorId, String nodeId, List<Integer> gpuIds, Map<String, String> env,
                              List<String> jvmOptions, long timeoutMs, Slot slot) {
    return spawn(actorType, actorId, nodeId, gpuIds, env, jvmOptions, timeoutMs, slot, null, RestartPolicy.never(), Liveness.none(),
      null);
  }

  /**
   * The hub's Spawn of a Java actor, or with a {@code process} of that managed process; {@code spawnId} is the hub's id
   * of it, which the agent reports with the instance.
   */
  public static Message spawn(String actorType, String actorId, String nodeId, List<Integer> gpuIds, Map<String, String> env,
                              List<String> jvmOptions, long timeoutMs, Slot slot, ProcessSpec process, RestartPolicy restart,
                              Liveness liveness, String spawnId) {
    return Message.of(Body.Spawn, b -> SpawnCodec.writeSpawn(b, actorType, actorId, nodeId, gpuIds, env, jvmOptions, timeoutMs, slot,
      process, restart, liveness, spawnId));
  }

  /** The hub's Spawn, read in place. */
  public static SpawnView readSpawn(Frame frame) {
    return new SpawnView((Spawn) frame.header().body(new Spawn()));
  }

  public static Message stop(String actorId) {
    return Message.of(Body.Stop, b -> Stop.createStop(b, b.createString(actorId)));
  }

  /** The actor a Stop names (null if none). */
  public static String readStop(Frame frame) {
    return ((Stop) frame.header().body(new Stop())).actorId();
  }

  /**
   * A dismissal: the cluster ends (a {@code spoke run --slurm} step is over, say), and the agent's embedding exits
   * with {@code exitStatus}, saying {@code reason}.
   */
  public static Message dismiss(int exitStatus, String reason) {
    return Message.of(Body.Shutdown, b -> Shutdown.createShutdown(b, exitStatus, b.createString(reason == null ? "" : reason)));
  }

  /** The exit status a dismissal asks for. */
  public static int readDismissStatus(Frame frame) {
    return ((Shutdown) frame.header().body(new Shutdown())).exitStatus();
  }

  /** Why the hub dismissed the agent ("" if it did not say). */
  public static String readDismissReason(Frame frame) {
    String reason = ((Shutdown) frame.header().body(new Shutdown())).reason();
    return reason == null ? "" : reason;
  }

  /** Read at most {@code maxBytes} of the log of {@code actorId} from {@code offset}. */
  public static Message readLog(String actorId, long offset, int maxBytes) {
    return Message.of(Body.ReadLog, b -> ReadLog.createReadLog(b, b.createString(actorId), offset, maxBytes));
  }

  public static ReadLogRequest readLogRequest(Frame frame) {
    ReadLog r = (ReadLog) frame.header().body(new ReadLog());
    return new ReadLogRequest(r.actorId(), r.offset(), r.maxBytes());
  }

  /** Reserve a free port for {@code holder} (a ticket's rendezvous port, or a lease) ({@code TicketCodec.writeReservePort}). */
  public static Message reservePort(String holder) {
    return Message.of(Body.ReservePort, b -> TicketCodec.writeReservePort(b, holder));
  }

  /** The holder a ReservePort names. */
  public static String readReservePort(Frame frame) {
    return ((ReservePort) frame.header().body(new ReservePort())).ticket();
  }

  /** {@code holder} no longer needs its port. */
  public static Message releasePort(String holder) {
    return Message.of(Body.ReleasePort, b -> TicketCodec.writeReleasePort(b, holder));
  }

  /** The holder a ReleasePort names. */
  public static String readReleasePort(Frame frame) {
    return ((ReleasePort) frame.header().body(new ReleasePort())).ticket();
  }
}
