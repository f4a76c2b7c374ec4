package io.spoke.vertx.hub.impl;

import com.google.flatbuffers.FlatBufferBuilder;
import io.spoke.vertx.InfeasibleException;
import io.spoke.vertx.InvalidRequestException;
import io.spoke.vertx.NodeUnavailableException;
import io.spoke.vertx.PlacementTimeoutException;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.SchedulingException;
import io.spoke.vertx.SlotTakenException;
import io.spoke.vertx.SpokeException;
import io.spoke.vertx.TicketNotFoundException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.PlacementStrategy;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.client.TicketState;
import io.spoke.vertx.hub.scheduler.GangPlacement;
import io.spoke.vertx.hub.scheduler.GangSpec;
import io.spoke.vertx.hub.scheduler.Resources;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.Messages;
import io.spoke.vertx.protocol.Names;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.GangAllocate;
import io.spoke.vertx.protocol.fb.Launch;
import io.spoke.vertx.protocol.fb.PortReserved;
import io.spoke.vertx.protocol.fb.ReleasePort;
import io.spoke.vertx.protocol.fb.ReservePort;
import io.spoke.vertx.protocol.fb.TicketEvent;
import io.spoke.vertx.protocol.fb.TicketList;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Gangs on the hub: tickets from allocation (placed at once, or queued until their deadline) through the
 * reservation of a rendezvous port on rank 0's node, launches into slots, to release. Runs on the hub's
 * event loop; the placement decisions are the pure {@link io.spoke.vertx.hub.scheduler.Scheduler}'s.
 */
final class TicketDesk {

  private static final Logger log = LogManager.getLogger(TicketDesk.class);

  /** Released tickets remembered, so that a second release succeeds. */
  static final int RELEASED_KEPT = 4096;
  /** Rendezvous ports kept leased per node that was rank 0 of a gang. */
  static final int LEASES_PER_NODE = 8;
  /** A leased port older than this is given back unused: the agent checked it free when it handed it out. */
  static final long LEASE_TTL_NANOS = 5_000_000_000L;

  private final HubServer hub;
  private final Map<String, TicketRecord> tickets = new LinkedHashMap<>();
  private long leaseSerial;
  private final Map<String, Boolean> released = new LinkedHashMap<>(16, 0.75f, false) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
      return size() > RELEASED_KEPT;
    }
  };

  TicketDesk(HubServer hub) {
    this.hub = hub;
  }

  // ------------------------------------------------------------------ allocate

  void allocate(Connection client, ClientSession session, long requestId, GangAllocate g) {
    String ticketId = g.ticket();
    String error = Names.checkId("ticket id", ticketId);
    if (error == null && (g.nodes() < 1 || g.actorsPerNode() < 1)) {
      error = "a gang needs at least 1 node and 1 actor per node, got " + g.nodes() + " x " + g.actorsPerNode();
    }
    if (error == null && (long) g.nodes() * g.actorsPerNode() > 100_000) {
      error = "a gang of " + g.nodes() + " x " + g.actorsPerNode() + " ranks is too large";
    }
    if (error == null && (g.gpus() < 0 || g.cpus() < 0 || g.memoryMb() < 0 || g.timeoutMs() <= 0)) {
      error = "resources must not be negative and the timeout must be positive";
    }
    if (error == null && (g.strategy() < 0 || g.strategy() >= PlacementStrategy.values().length)) {
      error = "unknown placement strategy " + g.strategy();
    }
    Map<String, Long> custom = null;
    if (error == null) {
      custom = Messages.readQuantities(g.customLength(), g::custom);
      for (Map.Entry<String, Long> e : custom.entrySet()) {
        String bad = Names.checkId("custom resource name", e.getKey());
        if (bad == null && e.getValue() < 0) {
          bad = "custom resource " + e.getKey() + " must not be negative";
        }
        if (bad != null) {
          error = bad;
          break;
        }
      }
    }
    if (error == null && (tickets.containsKey(ticketId) || released.containsKey(ticketId))) {
      error = "ticket id '" + ticketId + "' is already in use; choose another";
    }
    if (error != null) {
      client.replyFailure(requestId, new InvalidRequestException(error));
      return;
    }
    String preferred = g.preferredNode() == null || g.preferredNode().isEmpty() ? null : g.preferredNode();
    GangSpec spec = new GangSpec(ticketId, g.nodes(), g.actorsPerNode(), new Resources(g.gpus(), g.cpus(), g.memoryMb(), custom),
      PlacementStrategy.values()[g.strategy()], preferred);
    GangPlacement placement;
    try {
      placement = hub.scheduler.submit(spec, g.waitForResources());
    } catch (SpokeException e) {
      client.replyFailure(requestId, e);
      return;
    }
    TicketRecord ticket = new TicketRecord(ticketId, session, g.detached(), spec, g.timeoutMs());
    ticket.requester = client;
    ticket.requestId = requestId;
    tickets.put(ticketId, ticket);
    session.tickets.add(ticketId);
    if (placement != null) {
      placed(ticket, placement);
    } else {
      log.info("Ticket {} waits for resources ({}), {} in the queue", ticketId, spec, hub.scheduler.waiting().size());
      ticket.deadlineTimer = hub.vertx.setTimer(g.timeoutMs(), t -> expired(ticket));
    }
  }

  /**
   * Resources are reserved: MASTER_PORT on rank 0's node, then the answer. The port comes from the ports that
   * node's agent holds for the hub (a lease, no round trip), or else is reserved by the agent now.
   */
  private void placed(TicketRecord ticket, GangPlacement placement) {
    if (ticket.deadlineTimer >= 0) {
      hub.vertx.cancelTimer(ticket.deadlineTimer);
      ticket.deadlineTimer = -1;
    }
    ticket.placement = placement;
    NodeRecord master = hub.nodes.get(placement.masterNode());
    ticket.masterAddr = master.host;
    PortLease lease = takeLease(master);
    if (lease != null) {
      allocated(ticket, lease.port, lease.holder, lease.leasedAtNanos);
      refillLeases(master);
      return;
    }
    Future<Integer> reserved = reservePort(ticket.id, master);
    refillLeases(master);
    reserved.onComplete(ar -> {
      if (tickets.get(ticket.id) != ticket || ticket.releasing != null) {
        // Released while the port was being reserved: the release freed the placement and answered the requester.
        if (ar.succeeded()) {
          ticket.masterPort = ar.result();
          ticket.portHolder = ticket.id;
          ticket.portCheckedAtNanos = System.nanoTime();
          releasePort(ticket);
        }
        return;
      }
      if (ar.failed()) {
        hub.scheduler.release(placement);
        remove(ticket);
        answer(ticket, Future.failedFuture(new SchedulingException("could not reserve a rendezvous port (MASTER_PORT) on node "
          + master.id + ": " + ar.cause().getMessage())));
        drain();
        return;
      }
      allocated(ticket, ar.result(), ticket.id, System.nanoTime());
    });
  }

  private void allocated(TicketRecord ticket, int port, String portHolder, long portCheckedAtNanos) {
    ticket.masterPort = port;
    ticket.portHolder = portHolder;
    ticket.portCheckedAtNanos = portCheckedAtNanos;
    ticket.state = TicketState.ALLOCATED;
    log.info("Ticket {} allocated: {} ranks, master {}:{}", ticket.id, ticket.placement.ranks().size(), ticket.masterAddr, ticket.masterPort);
    answer(ticket, Future.succeededFuture(allocation(ticket)));
  }

  private Future<Integer> reservePort(String holder, NodeRecord node) {
    if (node.connection == null) {
      return Future.failedFuture(new NodeUnavailableException("node " + node.id + " is disconnected"));
    }
    FlatBufferBuilder b = node.connection.builder();
    int body = ReservePort.createReservePort(b, b.createString(holder));
    return node.connection.request(Body.ReservePort, body, null, hub.options.getAgentTimeout(), "port reservation for "
      + holder, frame -> {
        if (frame.bodyType() != Body.PortReserved) {
          throw new ProtocolException("the agent answered a port reservation with message type " + frame.bodyType());
        }
        return ((PortReserved) frame.header().body(new PortReserved())).port();
      });
  }

  /** A leased port of {@code node} checked free recently enough, or null; stale ones go back to the agent. */
  private PortLease takeLease(NodeRecord node) {
    long now = System.nanoTime();
    for (PortLease lease; (lease = node.leases.poll()) != null; ) {
      if (lease.connection == node.connection && now - lease.leasedAtNanos < LEASE_TTL_NANOS) {
        return lease;
      }
      sendReleasePort(lease.connection, lease.holder);
    }
    return null;
  }

  /** Keeps {@link #LEASES_PER_NODE} ports held for the hub on a node that is a gang's rank 0, off the critical path. */
  private void refillLeases(NodeRecord node) {
    Connection connection = node.connection;
    if (connection == null || connection.isClosed()) {
      return;
    }
    for (int i = node.leases.size() + node.leasesRequested; i < LEASES_PER_NODE; i++) {
      // '~' cannot appear in a ticket id, so a lease never collides with a ticket on the agent.
      String holder = "~lease-" + (++leaseSerial);
      node.leasesRequested++;
      reservePort(holder, node).onComplete(ar -> {
        node.leasesRequested--;
        if (ar.succeeded()) {
          if (node.connection == connection) {
            node.leases.add(new PortLease(ar.result(), holder, connection, System.nanoTime()));
          } else {
            sendReleasePort(connection, holder);
          }
        }
      });
    }
  }

  /**
   * Gives a ticket's MASTER_PORT back. The port of a ticket that never launched an actor goes back to the hub's
   * leases (the agent still holds it, and nothing of ours bound it); after any launch, even a failed one, it goes
   * back to the agent, which checks it free again before handing it out.
   */
  private void releasePort(TicketRecord ticket) {
    if (ticket.placement == null) {
      return;
    }
    NodeRecord master = hub.nodes.get(ticket.placement.masterNode());
    if (master == null || master.connection == null || master.connection.isClosed()) {
      return;
    }
    String holder = ticket.portHolder != null ? ticket.portHolder : ticket.id;
    if (!ticket.launched && ticket.masterPort > 0 && master.leases.size() < LEASES_PER_NODE * 2) {
      master.leases.add(new PortLease(ticket.masterPort, holder, master.connection, ticket.portCheckedAtNanos));
      return;
    }
    sendReleasePort(master.connection, holder);
  }

  private static void sendReleasePort(Connection connection, String holder) {
    if (connection != null && !connection.isClosed()) {
      FlatBufferBuilder b = connection.builder();
      connection.send(Body.ReleasePort, ReleasePort.createReleasePort(b, b.createString(holder)), null);
    }
  }

  /** Answers the allocation request, if still unanswered. */
  private void answer(TicketRecord ticket, Future<Allocation> outcome) {
    Connection requester = ticket.requester;
    ticket.requester = null;
    if (requester == null || requester.isClosed()) {
      return;
    }
    if (outcome.succeeded()) {
      FlatBufferBuilder b = requester.builder();
      requester.reply(ticket.requestId, Body.Allocation, Messages.writeAllocation(b, outcome.result(), null), null);
    } else {
      requester.replyFailure(ticket.requestId, outcome.cause());
    }
  }

  private void expired(TicketRecord ticket) {
    ticket.deadlineTimer = -1;
    if (tickets.get(ticket.id) != ticket || !hub.scheduler.cancel(ticket.id)) {
      return;
    }
    remove(ticket);
    String still = hub.scheduler.shortageNow(ticket.spec);
    answer(ticket, Future.failedFuture(new PlacementTimeoutException("ticket " + ticket.id + " waited " + ticket.timeoutMs
      + " ms for resources and was not placed" + (still == null ? "" : ": " + still))));
    drain();
  }

  /** Places what waits at the head of the queue, now that resources were freed or added. */
  void drain() {
    Map<String, String> infeasible = new LinkedHashMap<>();
    List<GangPlacement> placements = hub.scheduler.drain(infeasible);
    for (Map.Entry<String, String> e : infeasible.entrySet()) {
      TicketRecord ticket = tickets.get(e.getKey());
      if (ticket != null) {
        remove(ticket);
        if (ticket.deadlineTimer >= 0) {
          hub.vertx.cancelTimer(ticket.deadlineTimer);
        }
        answer(ticket, Future.failedFuture(new InfeasibleException(e.getValue())));
      }
    }
    for (GangPlacement placement : placements) {
      TicketRecord ticket = tickets.get(placement.ticket());
      if (ticket != null) {
        placed(ticket, placement);
      } else {
        hub.scheduler.release(placement);
      }
    }
  }

  // ------------------------------------------------------------------ launch

  void launch(Connection client, ClientSession session, long requestId, Launch l, Buffer args) {
    String error = Names.checkId("ticket id", l.ticket());
    if (error == null) {
      error = Names.checkType(l.actorType());
    }
    if (error == null) {
      error = Names.checkId("actor id", l.actorId());
    }
    if (error == null && l.timeoutMs() <= 0) {
      error = "the launch timeout must be positive";
    }
    if (error != null) {
      client.replyFailure(requestId, new InvalidRequestException(error));
      return;
    }
    TicketRecord ticket = tickets.get(l.ticket());
    SpokeException refusal = null;
    if (ticket == null || ticket.releasing != null) {
      refusal = notFound(l.ticket());
    } else if (ticket.state == TicketState.PENDING) {
      refusal = new InvalidRequestException("ticket " + ticket.id + " is still waiting for resources; launch once gangAllocate completed");
    } else if (ticket.state == TicketState.FAILED) {
      refusal = new NodeUnavailableException("ticket " + ticket.id + " failed: " + ticket.reason + "; release it and allocate again");
    } else if (l.rank() < 0 || l.rank() >= ticket.spec.worldSize()) {
      refusal = new InvalidRequestException("rank " + l.rank() + " is out of range: ticket " + ticket.id + " has ranks 0.."
        + (ticket.spec.worldSize() - 1));
    } else if (ticket.actors[l.rank()] != null && hub.actors.containsKey(ticket.actors[l.rank()])) {
      refusal = new SlotTakenException("rank " + l.rank() + " of ticket " + ticket.id + " already runs actor '" + ticket.actors[l.rank()]
        + "'; a rank can be launched again once its actor has exited");
    }
    if (refusal != null) {
      client.replyFailure(requestId, refusal);
      return;
    }
    if (hub.refuseDuplicate(client, requestId, l.actorId())) {
      return;
    }
    GangPlacement.Rank rank = ticket.placement.ranks().get(l.rank());
    NodeRecord node = hub.nodes.get(rank.nodeId());
    if (node == null || node.connection == null) {
      client.replyFailure(requestId, new NodeUnavailableException("node " + rank.nodeId() + " of rank " + l.rank() + " of ticket "
        + ticket.id + " is not connected"));
      return;
    }
    Slot slot = slot(ticket, rank);
    ActorInfo starting = new ActorInfo(l.actorId(), l.actorType(), node.id, node.host, 0, 0, null, ActorState.STARTING, -1, null,
      slot.gpuIds(), ticket.id, l.rank());
    ActorRecord record = new ActorRecord(starting, node.id, null);
    String previous = ticket.actors[l.rank()];
    ticket.actors[l.rank()] = l.actorId();
    ticket.launched = true;
    hub.startActor(client, session, requestId, record, node, l::env, l.envLength(), l.jvmOptionsLength(), l::jvmOptions, l.timeoutMs(),
      args, b -> Messages.writeSlot(b, slot), () -> {
        if (l.actorId().equals(ticket.actors[l.rank()])) {
          ticket.actors[l.rank()] = previous;
        }
      });
  }

  // ------------------------------------------------------------------ release

  void release(Connection client, long requestId, String ticketId) {
    String error = Names.checkId("ticket id", ticketId);
    if (error != null) {
      client.replyFailure(requestId, new InvalidRequestException(error));
      return;
    }
    TicketRecord ticket = tickets.get(ticketId);
    if (ticket == null) {
      if (released.containsKey(ticketId)) {
        client.reply(requestId, Body.NONE, 0, null);
      } else {
        client.replyFailure(requestId, notFound(ticketId));
      }
      return;
    }
    release(ticket, "released").onComplete(ar -> client.reply(requestId, Body.NONE, 0, null));
  }

  /**
   * Stops the ticket's actors, then frees all its resources in one step and forgets it. Never fails: an
   * actor that cannot be stopped (its node is gone) is gone with its node.
   */
  Future<Void> release(TicketRecord ticket, String why) {
    if (ticket.releasing != null) {
      return ticket.releasing;
    }
    Promise<Void> done = Promise.promise();
    ticket.releasing = done.future();
    if (ticket.deadlineTimer >= 0) {
      hub.vertx.cancelTimer(ticket.deadlineTimer);
      ticket.deadlineTimer = -1;
    }
    if (hub.scheduler.cancel(ticket.id)) {
      answer(ticket, Future.failedFuture(new SchedulingException("ticket " + ticket.id + " was released while it waited for resources")));
    }
    List<Future<Void>> stops = new ArrayList<>();
    for (String actorId : ticket.actors) {
      ActorRecord record = actorId == null ? null : hub.actors.get(actorId);
      if (record != null) {
        stops.add(hub.stopActor(record).recover(err -> {
          log.warn("Releasing ticket {}: could not stop actor {}: {}", ticket.id, actorId, err.getMessage());
          return Future.succeededFuture();
        }));
      }
    }
    Future.join(new ArrayList<>(stops)).onComplete(ar -> {
      if (ticket.placement != null) {
        hub.scheduler.release(ticket.placement);
        releasePort(ticket);
      }
      answer(ticket, Future.failedFuture(new SchedulingException("ticket " + ticket.id + " was released before its allocation completed")));
      ticket.state = TicketState.RELEASED;
      remove(ticket);
      released.put(ticket.id, Boolean.TRUE);
      log.info("Ticket {} {}", ticket.id, why);
      done.complete();
      drain();
    });
    return done.future();
  }

  private void remove(TicketRecord ticket) {
    tickets.remove(ticket.id, ticket);
    ticket.owner.tickets.remove(ticket.id);
  }

  private TicketNotFoundException notFound(String ticketId) {
    return new TicketNotFoundException(released.containsKey(ticketId) ? "ticket " + ticketId + " was released"
      : "no ticket " + ticketId + " is known to the hub");
  }

  // ------------------------------------------------------------------ events

  /** A client session expired: its tickets go, except detached ones. */
  void sessionExpired(ClientSession session) {
    for (String ticketId : new ArrayList<>(session.tickets)) {
      TicketRecord ticket = tickets.get(ticketId);
      if (ticket != null && !ticket.detached) {
        release(ticket, "released: its client " + session.id + " did not come back within " + hub.options.getClientGracePeriod() + " ms");
      }
    }
  }

  /** A node died: tickets with a rank there fail, and their owners are told; what they hold elsewhere stays. */
  void nodeDied(String nodeId, String why) {
    for (TicketRecord ticket : new ArrayList<>(tickets.values())) {
      if (ticket.placement == null || ticket.releasing != null || ticket.state == TicketState.FAILED) {
        continue;
      }
      boolean affected = ticket.placement.ranks().stream().anyMatch(r -> r.nodeId().equals(nodeId));
      if (!affected) {
        continue;
      }
      ticket.state = TicketState.FAILED;
      ticket.reason = why;
      log.warn("Ticket {} failed: {}", ticket.id, why);
      answer(ticket, Future.failedFuture(new NodeUnavailableException("ticket " + ticket.id + " failed while allocating: " + why)));
      Connection owner = ticket.owner.connection;
      if (owner != null && !owner.isClosed()) {
        FlatBufferBuilder b = owner.builder();
        int allocation = Messages.writeAllocation(b, allocation(ticket), null);
        owner.send(Body.TicketEvent, TicketEvent.createTicketEvent(b, allocation), null);
      }
    }
    drain();
  }

  // ------------------------------------------------------------------ introspection

  void list(Connection client, ClientSession session, long requestId, boolean everyone) {
    List<Allocation> list = new ArrayList<>();
    for (TicketRecord ticket : tickets.values()) {
      if (everyone || ticket.owner == session) {
        list.add(allocation(ticket));
      }
    }
    FlatBufferBuilder b = client.builder();
    int[] offsets = new int[list.size()];
    for (int i = 0; i < offsets.length; i++) {
      offsets[i] = Messages.writeAllocation(b, list.get(i), null);
    }
    int vector = TicketList.createTicketsVector(b, offsets);
    client.reply(requestId, Body.TicketList, TicketList.createTicketList(b, vector), null);
  }

  /** Every live ticket, for the cluster status. */
  List<Allocation> all() {
    List<Allocation> list = new ArrayList<>(tickets.size());
    for (TicketRecord ticket : tickets.values()) {
      list.add(allocation(ticket));
    }
    return list;
  }

  private Allocation allocation(TicketRecord ticket) {
    List<Slot> slots = new ArrayList<>();
    if (ticket.placement != null) {
      for (GangPlacement.Rank rank : ticket.placement.ranks()) {
        slots.add(slot(ticket, rank));
      }
    }
    TicketState state = ticket.state == TicketState.ALLOCATED || ticket.state == TicketState.FAILED || ticket.placement == null
      ? ticket.state : TicketState.PENDING;
    return new Allocation(ticket.id, state, ticket.spec.strategy(), ticket.detached, slots, ticket.reason);
  }

  private Slot slot(TicketRecord ticket, GangPlacement.Rank rank) {
    NodeRecord node = hub.nodes.get(rank.nodeId());
    List<Integer> gpus = new ArrayList<>();
    for (int gpu : rank.reservation().gpuIds()) {
      gpus.add(gpu);
    }
    String actorId = ticket.actors[rank.rank()];
    ActorInfo actor = actorId == null ? null : hub.actorInfo(actorId);
    return new Slot(ticket.id, rank.rank(), ticket.spec.worldSize(), rank.localRank(), rank.localWorldSize(), rank.nodeId(),
      node == null ? null : node.host, gpus, ticket.masterAddr, ticket.masterPort, actorId,
      actor == null ? (actorId == null ? null : ActorState.EXITED) : actor.state());
  }
}
