// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.protocol;

import com.google.flatbuffers.FlatBufferBuilder;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorLog;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.protocol.fb.ActorEvent;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.FbAllocation;
import io.spoke.vertx.protocol.fb.FbClusterStatus;
import io.spoke.vertx.protocol.fb.GangAllocate;
import io.spoke.vertx.protocol.fb.KeyValue;
import io.spoke.vertx.protocol.fb.Launch;
import io.spoke.vertx.protocol.fb.LogChunk;
import io.spoke.vertx.protocol.fb.ReadLog;
import io.spoke.vertx.protocol.fb.Release;
import io.spoke.vertx.protocol.fb.Resolve;
import io.spoke.vertx.protocol.fb.Spawn;
import io.spoke.vertx.protocol.fb.Status;
import io.spoke.vertx.protocol.fb.Stop;
import io.spoke.vertx.protocol.fb.TicketEvent;
import io.spoke.vertx.protocol.fb.TicketList;
import io.spoke.vertx.protocol.fb.Tickets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The messages between a client and the hub: the client's requests (spawn, gang, launch, release, tickets, logs,
 * stop, resolve, status) and the hub's answers and events (actor and ticket events).
 */
public final class HubClientCodec {

  private HubClientCodec() {
  }

  // ---------------------------------------------------------------- written by the client, read by the hub

  /**
   * Start actor {@code actorId} of {@code actorType} with {@code options}' placement, resources, environment and
   * JVM options (its constructor arguments go as the payload), within {@code timeoutMs}.
   */
  public static Message spawn(String actorType, String actorId, SpawnOptions options, long timeoutMs) {
    return spawn(actorType, actorId, options, timeoutMs, null);
  }

  /** Spawn {@code actorId}: a Java actor of {@code actorType}, or, with a {@code process}, that managed process. */
  public static Message spawn(String actorType, String actorId, SpawnOptions options, long timeoutMs, ProcessSpec process) {
    return Message.of(Body.Spawn, b -> {
      int type = b.createString(actorType);
      int id = b.createString(actorId);
      int node = Messages.string(b, options.getNode());
      int envVector = clientEnv(b, options.getEnv());
      int jvm = Messages.stringVector(b, options.getJvmOptions());
      int spec = ProcessCodec.write(b, process);
      int restart = ProcessCodec.writeRestart(b, options.getRestart());
      int liveness = ProcessCodec.writeLiveness(b, options.getLiveness());
      return Spawn.createSpawn(b, type, id, node, options.getGpus(), options.getCpus(), options.getMemoryMb(), envVector, jvm,
        timeoutMs, 0, 0, spec, restart, liveness, options.isWaitForResources(), 0);
    });
  }

  /** Reserve the resources of gang {@code request} (its ticket id included), waiting at most {@code timeoutMs}. */
  public static Message gangAllocate(GangRequest request, long timeoutMs) {
    return Message.of(Body.GangAllocate, b -> {
      int ticket = b.createString(request.getTicketId());
      int custom = Messages.quantities(b, request.getCustomResources());
      int preferred = Messages.string(b, request.getPreferredNode());
      int restart = ProcessCodec.writeRestart(b, request.getRestart());
      return GangAllocate.createGangAllocate(b, ticket, request.getNodes(), request.getActorsPerNode(), request.getGpus(),
        request.getCpus(), request.getMemoryMb(), custom, (byte) request.getStrategy().ordinal(), preferred, timeoutMs,
        request.isWaitForResources(), request.isDetached(), restart);
    });
  }

  /**
   * Start actor {@code actorId} of {@code actorType} in slot {@code globalRank} of ticket {@code ticketId}, with
   * {@code options}' environment and JVM options (its constructor arguments go as the payload), within {@code timeoutMs}.
   */
  public static Message launch(String ticketId, int globalRank, String actorType, String actorId, SpawnOptions options,
                               long timeoutMs) {
    return launch(ticketId, globalRank, actorType, actorId, options, timeoutMs, null);
  }

  /** Start a Java actor, or with a {@code process} that managed process, in slot {@code globalRank} of {@code ticketId}. */
  public static Message launch(String ticketId, int globalRank, String actorType, String actorId, SpawnOptions options,
                               long timeoutMs, ProcessSpec process) {
    return Message.of(Body.Launch, b -> {
      int ticket = b.createString(ticketId);
      int type = b.createString(actorType);
      int id = b.createString(actorId);
      int env = clientEnv(b, options.getEnv());
      int jvm = Messages.stringVector(b, options.getJvmOptions());
      int spec = ProcessCodec.write(b, process);
      int restart = ProcessCodec.writeRestart(b, options.getRestart());
      int liveness = ProcessCodec.writeLiveness(b, options.getLiveness());
      return Launch.createLaunch(b, ticket, globalRank, type, id, env, jvm, timeoutMs, spec, restart, liveness);
    });
  }

  /** Stop ticket {@code ticketId}'s actors and free its resources. */
  public static Message release(String ticketId) {
    return Message.of(Body.Release, b -> Release.createRelease(b, b.createString(ticketId)));
  }

  /** The caller's tickets. */
  public static Message tickets() {
    return Message.of(Body.Tickets, b -> Tickets.createTickets(b, false));
  }

  /** Up to {@code maxBytes} of actor {@code actorId}'s log from {@code offset}. */
  public static Message readLog(String actorId, long offset, int maxBytes) {
    return Message.of(Body.ReadLog, b -> ReadLog.createReadLog(b, b.createString(actorId), offset, maxBytes));
  }

  /** Stop actor {@code actorId}. */
  public static Message stop(String actorId) {
    return Message.of(Body.Stop, b -> Stop.createStop(b, b.createString(actorId)));
  }

  /** Where actor {@code actorId} runs, and its state. */
  public static Message resolve(String actorId) {
    return Message.of(Body.Resolve, b -> Resolve.createResolve(b, b.createString(actorId)));
  }

  /** The cluster's nodes, actors and tickets. */
  public static Message status() {
    return Message.of(Body.Status, b -> {
      Status.startStatus(b);
      return Status.endStatus(b);
    });
  }

  /** The environment of a client's Spawn or Launch (values as given: a client's are never null). */
  private static int clientEnv(FlatBufferBuilder b, Map<String, String> env) {
    int[] entries = new int[env.size()];
    int i = 0;
    for (Map.Entry<String, String> e : env.entrySet()) {
      entries[i++] = KeyValue.createKeyValue(b, b.createString(e.getKey()), b.createString(e.getValue()));
    }
    return Spawn.createEnvVector(b, entries);
  }

  /** A client's spawn of an ad-hoc actor, read in place. */
  public static SpawnView readSpawn(Frame frame) {
    return new SpawnView((Spawn) frame.header().body(new Spawn()));
  }

  /** A client's gang request, read in place. */
  public static GangAllocateView readGangAllocate(Frame frame) {
    return new GangAllocateView((GangAllocate) frame.header().body(new GangAllocate()));
  }

  /** A client's launch into a rank of its ticket, read in place. */
  public static LaunchView readLaunch(Frame frame) {
    return new LaunchView((Launch) frame.header().body(new Launch()));
  }

  /** The ticket a Release names (null if none). */
  public static String readRelease(Frame frame) {
    return ((Release) frame.header().body(new Release())).ticket();
  }

  /** Whether a Tickets request asks for every client's tickets, not only the asker's. */
  public static boolean readTickets(Frame frame) {
    return ((Tickets) frame.header().body(new Tickets())).all();
  }

  /** What part of which log a ReadLog asks for. */
  public static ReadLogRequest readLogRequest(Frame frame) {
    ReadLog r = (ReadLog) frame.header().body(new ReadLog());
    return new ReadLogRequest(r.actorId(), r.offset(), r.maxBytes());
  }

  /** The actor a Stop names (null if none). */
  public static String readStop(Frame frame) {
    return ((Stop) frame.header().body(new Stop())).actorId();
  }

  /** The actor a Resolve names (null if none). */
  public static String readResolve(Frame frame) {
    return ((Resolve) frame.header().body(new Resolve())).actorId();
  }

  // ---------------------------------------------------------------- written by the hub, read by the client

  /** The hub's answer to {@link #tickets()}; a {@link ProtocolException} when it is not a ticket list. */
  public static List<Allocation> readTicketList(Frame frame) {
    if (frame.bodyType() != Body.TicketList) {
      throw new ProtocolException("the hub answered with message type " + frame.bodyType() + " instead of a ticket list");
    }
    TicketList list = (TicketList) frame.header().body(new TicketList());
    int n = Messages.length(list.ticketsLength(), "tickets");
    List<Allocation> tickets = new ArrayList<>(n);
    FbAllocation table = new FbAllocation();
    for (int i = 0; i < n; i++) {
      tickets.add(Messages.readAllocation(list.tickets(table, i)));
    }
    return tickets;
  }

  /**
   * The hub's answer to {@link #readLog} from {@code offset}, its bytes copied out of the frame; a
   * {@link ProtocolException} when it is not a log chunk.
   */
  public static ActorLog readLogChunk(Frame frame, long offset) {
    if (frame.bodyType() != Body.LogChunk) {
      throw new ProtocolException("the hub answered with message type " + frame.bodyType() + " instead of a log chunk");
    }
    LogChunk chunk = (LogChunk) frame.header().body(new LogChunk());
    return new ActorLog(chunk.path(), offset, chunk.nextOffset(), chunk.size(), chunk.running(), frame.copyPayload());
  }

  /** The hub's answer to {@link #gangAllocate}; a {@link ProtocolException} when it is not an allocation. */
  public static Allocation readAllocation(Frame frame) {
    if (frame.bodyType() != Body.FbAllocation) {
      throw new ProtocolException("expected an allocation from the hub, got message type " + frame.bodyType());
    }
    return Messages.readAllocation((FbAllocation) frame.header().body(new FbAllocation()));
  }

  /** The hub's answer to {@link #status()}; a {@link ProtocolException} when it is not a cluster status. */
  public static ClusterStatus readClusterStatus(Frame frame) {
    if (frame.bodyType() != Body.FbClusterStatus) {
      throw new ProtocolException("the hub answered status with message type " + frame.bodyType());
    }
    return Messages.readClusterStatus((FbClusterStatus) frame.header().body(new FbClusterStatus()));
  }

  /** The actor an ActorEvent frame tells of, or {@code null} when it carries none. */
  public static ActorInfo readActorEvent(Frame frame) {
    ActorEvent event = (ActorEvent) frame.header().body(new ActorEvent());
    return event.actor() != null ? Messages.readActorInfo(event.actor()) : null;
  }

  /** The ticket a TicketEvent frame tells of, or {@code null} when it carries none. */
  public static Allocation readTicketEvent(Frame frame) {
    TicketEvent event = (TicketEvent) frame.header().body(new TicketEvent());
    return event.allocation() != null ? Messages.readAllocation(event.allocation()) : null;
  }

  /** An actor as the hub knows it: the answer to a spawn, a launch or a resolve. */
  public static Message actorInfo(ActorInfo info) {
    return Message.of(Body.FbActorInfo, b -> Messages.writeActorInfo(b, info));
  }

  /** A change of an actor the client watches (it exited), pushed to it. */
  public static Message actorEvent(ActorInfo info) {
    return Message.of(Body.ActorEvent, b -> ActorEvent.createActorEvent(b, Messages.writeActorInfo(b, info)));
  }

  /** The answer to a Status. */
  public static Message clusterStatus(ClusterStatus status) {
    return Message.of(Body.FbClusterStatus, b -> Messages.writeClusterStatus(b, status));
  }

  /** The answer to a ReadLog: {@code chunk} but its bytes, which go as the frame's payload. */
  public static Message logChunk(ActorLog chunk) {
    return Message.of(Body.LogChunk, b -> LogChunk.createLogChunk(b, Messages.string(b, chunk.path()), chunk.nextOffset(), chunk.size(),
      chunk.running()));
  }

  /** The answer to a GangAllocate: the ticket and its slots. */
  public static Message allocation(Allocation allocation) {
    return Message.of(Body.FbAllocation, b -> Messages.writeAllocation(b, allocation, null));
  }

  /** The answer to a Tickets ({@code TicketCodec.writeTicketList}). */
  public static Message ticketList(List<Allocation> tickets) {
    return Message.of(Body.TicketList, b -> TicketCodec.writeTicketList(b, tickets));
  }

  /** A change of a ticket the client owns (it failed, say), pushed to it ({@code TicketCodec.writeTicketEvent}). */
  public static Message ticketEvent(Allocation allocation) {
    return Message.of(Body.TicketEvent, b -> TicketCodec.writeTicketEvent(b, allocation));
  }
}
