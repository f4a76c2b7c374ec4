package io.spoke.vertx.protocol;

import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorLog;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.protocol.fb.ActorEvent;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.GangAllocate;
import io.spoke.vertx.protocol.fb.Launch;
import io.spoke.vertx.protocol.fb.LogChunk;
import io.spoke.vertx.protocol.fb.ReadLog;
import io.spoke.vertx.protocol.fb.Release;
import io.spoke.vertx.protocol.fb.Resolve;
import io.spoke.vertx.protocol.fb.Spawn;
import io.spoke.vertx.protocol.fb.Stop;
import io.spoke.vertx.protocol.fb.Tickets;
import java.util.List;

/**
 * The messages between a client and the hub: the client's requests (spawn, gang, launch, release, tickets, logs,
 * stop, resolve, status) and the hub's answers and events (actor and ticket events).
 */
public final class HubClientCodec {

  private HubClientCodec() {
  }

  // ---------------------------------------------------------------- written by the client, read by the hub

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

  /** The answer to a Tickets ({@link TicketCodec#writeTicketList}). */
  public static Message ticketList(List<Allocation> tickets) {
    return Message.of(Body.TicketList, b -> TicketCodec.writeTicketList(b, tickets));
  }

  /** A change of a ticket the client owns (it failed, say), pushed to it ({@link TicketCodec#writeTicketEvent}). */
  public static Message ticketEvent(Allocation allocation) {
    return Message.of(Body.TicketEvent, b -> TicketCodec.writeTicketEvent(b, allocation));
  }
}
