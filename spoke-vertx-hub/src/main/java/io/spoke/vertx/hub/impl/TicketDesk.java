package io.spoke.vertx.hub.impl;

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
import io.spoke.vertx.internal.BoundedMap;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.Messages;
import io.spoke.vertx.protocol.Names;
import io.spoke.vertx.protocol.SpawnCodec;
import io.spoke.vertx.protocol.TicketCodec;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.GangAllocate;
import io.spoke.vertx.protocol.fb.Launch;
import io.spoke.vertx.protocol.fb.PortReserved;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
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

  private final HubState state;
  private final ActorDirectory directory;
  private final Map<String, TicketRecord> tickets = new LinkedHashMap<>();
  /** The journal in the hub's state directory, or null when tickets are kept in memory only. */
  private TicketJournal journal;
  private long leaseSerial;
  private final Map<String, Boolean> released = new BoundedMap<>(RELEASED_KEPT);

  TicketDesk(HubState state, ActorDirectory directory) {
    this.state = state;
    this.directory = directory;
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
    if (error != null) {
      client.replyFailure(requestId, new InvalidRequestException(error));
      return;
    }
    String preferred = g.preferredNode() == null || g.preferredNode().isEmpty() ? null : g.preferredNode();
    GangSpec spec = new GangSpec(ticketId, g.nodes(), g.actorsPerNode(), new Resources(g.gpus(), g.cpus(), g.memoryMb(), custom),
      PlacementStrategy.values()[g.strategy()], preferred);
    TicketRecord existing = tickets.get(ticketId);
    if (existing != null && existing.owner == session && existing.requester == null && existing.releasing == null
      && existing.state == TicketState.ALLOCATED && existing.detached == g.detached() && sameRequest(existing.spec, spec)) {
      // The same client asks again for the same gang (its answer was lost: a timeout, a hub restart): the allocation
      // it already has, not a second one.
      client.reply(requestId, Body.FbAllocation, Messages.writeAllocation(client.builder(), allocation(existing), null), null);
      return;
    }
    if (existing != null || released.containsKey(ticketId)) {
      client.replyFailure(requestId, new InvalidRequestException("ticket id '" + ticketId + "' is already in use; choose another"));
      return;
    }
    GangPlacement placement;
    try {
      placement = state.scheduler.submit(spec, g.waitForResources());
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
      log.info("Ticket {} waits for resources ({}), {} in the queue", ticketId, spec, state.scheduler.waiting().size());
      ticket.deadlineTimer = state.vertx.setTimer(g.timeoutMs(), t -> expired(ticket));
    }
  }

  private static boolean sameRequest(GangSpec a, GangSpec b) {
    Resources x = a.perActor();
    Resources y = b.perActor();
    return a.nodes() == b.nodes() && a.actorsPerNode() == b.actorsPerNode() && a.strategy() == b.strategy()
      && java.util.Objects.equals(a.preferredNode(), b.preferredNode()) && x.gpus() == y.gpus() && x.cpus() == y.cpus()
      && x.memoryMb() == y.memoryMb() && x.custom().equals(y.custom());
  }

  /**
   * Resources are reserved: MASTER_PORT on rank 0's node, then the answer. The port comes from the ports that
   * node's agent holds for the hub (a lease, no round trip), or else is reserved by the agent now.
   */
  private void placed(TicketRecord ticket, GangPlacement placement) {
    if (ticket.deadlineTimer >= 0) {
      state.vertx.cancelTimer(ticket.deadlineTimer);
      ticket.deadlineTimer = -1;
    }
    ticket.placement = placement;
    NodeRecord master = state.nodes.get(placement.masterNode());
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
        state.scheduler.release(placement);
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
    if (journal == null) {
      answer(ticket, Future.succeededFuture(allocation(ticket)));
      return;
    }
    // Answered once on disk: an allocation the client saw survives a hub crash.
    ticket.journaled = true;
    journal.append(record(ticket)).onComplete(ar -> {
      if (tickets.get(ticket.id) != ticket || ticket.releasing != null) {
        return;
      }
      if (ar.succeeded()) {
        answer(ticket, Future.succeededFuture(allocation(ticket)));
        return;
      }
      answer(ticket, Future.failedFuture(new SchedulingException("ticket " + ticket.id + " could not be recorded in the hub's journal ("
        + ar.cause().getMessage() + "), so it was not allocated; check the hub's --state-dir and its disk")));
      release(ticket, "released: it could not be recorded in the journal");
    });
  }

  private Future<Integer> reservePort(String holder, NodeRecord node) {
    if (node.connection == null) {
      return Future.failedFuture(new NodeUnavailableException("node " + node.id + " is disconnected"));
    }
    int body = TicketCodec.writeReservePort(node.connection.builder(), holder);
    return node.connection.request(Body.ReservePort, body, null, state.options.getAgentTimeout(), "port reservation for "
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
      // '~' cannot appear in a ticket id, so a lease never collides with a ticket on the agent; the hub's instance tag
      // keeps it apart from the leases of an earlier hub that a restored ticket may still hold its port under.
      String holder = "~lease-" + state.instanceTag + "-" + (++leaseSerial);
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
    NodeRecord master = state.nodes.get(ticket.placement.masterNode());
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
      connection.send(Body.ReleasePort, TicketCodec.writeReleasePort(connection.builder(), holder), null);
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
      requester.reply(ticket.requestId, Body.FbAllocation, Messages.writeAllocation(requester.builder(), outcome.result(), null), null);
    } else {
      requester.replyFailure(ticket.requestId, outcome.cause());
    }
  }

  private void expired(TicketRecord ticket) {
    ticket.deadlineTimer = -1;
    if (tickets.get(ticket.id) != ticket || !state.scheduler.cancel(ticket.id)) {
      return;
    }
    remove(ticket);
    String still = state.scheduler.shortageNow(ticket.spec);
    answer(ticket, Future.failedFuture(new PlacementTimeoutException("ticket " + ticket.id + " waited " + ticket.timeoutMs
      + " ms for resources and was not placed" + (still == null ? "" : ": " + still))));
    drain();
  }

  /** Places what waits at the head of the queue, now that resources were freed or added. */
  void drain() {
    Map<String, String> infeasible = new LinkedHashMap<>();
    List<GangPlacement> placements = state.scheduler.drain(infeasible);
    for (Map.Entry<String, String> e : infeasible.entrySet()) {
      TicketRecord ticket = tickets.get(e.getKey());
      if (ticket != null) {
        remove(ticket);
        if (ticket.deadlineTimer >= 0) {
          state.vertx.cancelTimer(ticket.deadlineTimer);
        }
        answer(ticket, Future.failedFuture(new InfeasibleException(e.getValue())));
      }
    }
    for (GangPlacement placement : placements) {
      TicketRecord ticket = tickets.get(placement.ticket());
      if (ticket != null) {
        placed(ticket, placement);
      } else {
        state.scheduler.release(placement);
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
    } else if (ticket.actors[l.rank()] != null && state.actors.containsKey(ticket.actors[l.rank()])) {
      refusal = new SlotTakenException("rank " + l.rank() + " of ticket " + ticket.id + " already runs actor '" + ticket.actors[l.rank()]
        + "'; a rank can be launched again once its actor has exited");
    }
    if (refusal != null) {
      client.replyFailure(requestId, refusal);
      return;
    }
    if (directory.refuseDuplicate(client, requestId, l.actorId())) {
      return;
    }
    Map<String, String> env = SpawnCodec.env(l);
    List<String> jvmOptions = SpawnCodec.jvmOptions(l);
    GangPlacement.Rank rank = ticket.placement.ranks().get(l.rank());
    NodeRecord node = state.nodes.get(rank.nodeId());
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
    directory.startActor(client, session, requestId, record, node, new ActorLaunch(env, jvmOptions, l.timeoutMs(), args, slot, () -> {
      if (l.actorId().equals(ticket.actors[l.rank()])) {
        ticket.actors[l.rank()] = previous;
      }
    }));
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
      state.vertx.cancelTimer(ticket.deadlineTimer);
      ticket.deadlineTimer = -1;
    }
    if (state.scheduler.cancel(ticket.id)) {
      answer(ticket, Future.failedFuture(new SchedulingException("ticket " + ticket.id + " was released while it waited for resources")));
    }
    List<Future<Void>> stops = new ArrayList<>();
    for (String actorId : ticket.actors) {
      ActorRecord record = actorId == null ? null : state.actors.get(actorId);
      if (record != null) {
        stops.add(directory.stopActor(record).recover(err -> {
          log.warn("Releasing ticket {}: could not stop actor {}: {}", ticket.id, actorId, err.getMessage());
          return Future.succeededFuture();
        }));
      }
    }
    Future.join(new ArrayList<>(stops)).onComplete(ar -> {
      if (ticket.placement != null) {
        state.scheduler.release(ticket.placement);
        releasePort(ticket);
      }
      answer(ticket, Future.failedFuture(new SchedulingException("ticket " + ticket.id + " was released before its allocation completed")));
      ticket.state = TicketState.RELEASED;
      remove(ticket);
      released.put(ticket.id, Boolean.TRUE);
      log.info("Ticket {} {}", ticket.id, why);
      drain();
      if (journal != null && ticket.journaled) {
        journal.append(TicketJournal.released(ticket.id)).onComplete(written -> {
          if (written.failed()) {
            log.error("Ticket {} is released, but the journal could not record it ({}): a hub restarted from this journal would "
              + "hold its resources again until it is released again", ticket.id, written.cause().getMessage());
          }
          done.complete();
        });
      } else {
        done.complete();
      }
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
        release(ticket, "released: its client " + session.id + " did not come back within " + state.options.getClientGracePeriod() + " ms");
      }
    }
  }

  /** A node died: tickets with a rank there fail, and their owners are told; what they hold elsewhere stays. */
  void nodeDied(String nodeId, String why) {
    for (TicketRecord ticket : new ArrayList<>(tickets.values())) {
      if (ticket.placement == null || ticket.releasing != null) {
        continue;
      }
      boolean affected = ticket.placement.ranks().stream().anyMatch(r -> r.nodeId().equals(nodeId));
      if (!affected) {
        continue;
      }
      ticket.deadNodes.add(nodeId);
      ticket.awaiting.remove(nodeId);
      if (journal != null && ticket.journaled) {
        journal.append(TicketJournal.failed(ticket.id, nodeId, why));
      }
      if (ticket.state == TicketState.FAILED) {
        continue;
      }
      ticket.state = TicketState.FAILED;
      ticket.reason = why;
      log.warn("Ticket {} failed: {}", ticket.id, why);
      answer(ticket, Future.failedFuture(new NodeUnavailableException("ticket " + ticket.id + " failed while allocating: " + why)));
      Connection owner = ticket.owner.connection;
      if (owner != null && !owner.isClosed()) {
        owner.send(Body.TicketEvent, TicketCodec.writeTicketEvent(owner.builder(), allocation(ticket)), null);
      }
    }
    drain();
  }

  // ------------------------------------------------------------------ journal and restart

  /**
   * Opens the journal in {@code dir} and takes the tickets it holds back: each keeps its id, owner, placement and
   * rendezvous port, reserving its resources on each node as that node registers ({@link #nodeRegistered}).
   * Nodes not back within {@code window} ms are dead for these tickets, as if they had died.
   *
   * @return the sessions that own restored tickets
   */
  Future<List<ClientSession>> openJournal(java.nio.file.Path dir, long window) {
    TicketJournal opening = new TicketJournal(state.vertx, dir, this::snapshot);
    return state.vertx.executeBlocking(opening::load).map(loaded -> {
      journal = opening;
      java.util.Set<ClientSession> owners = new java.util.LinkedHashSet<>();
      for (String id : loaded.released) {
        released.put(id, Boolean.TRUE);
      }
      int restored = 0;
      for (JsonObject record : loaded.live.values()) {
        try {
          owners.add(restore(record).owner);
          restored++;
        } catch (RuntimeException e) {
          log.error("Ticket journal: cannot restore ticket {}: {}", record.getString("ticket"), e.toString());
        }
      }
      log.info("Ticket journal {}: {} tickets restored, {} released ids remembered ({} lines read{})", dir.resolve(TicketJournal.FILE),
        restored, loaded.released.size(), loaded.lines, loaded.skipped == 0 ? "" : ", " + loaded.skipped + " unreadable");
      if (restored > 0) {
        state.vertx.setTimer(window, t -> restoreDeadline(window));
      }
      return new ArrayList<>(owners);
    });
  }

  Future<Void> closeJournal() {
    return journal == null ? Future.succeededFuture() : journal.close();
  }

  private TicketRecord restore(JsonObject r) {
    String id = r.getString("ticket");
    Map<String, Long> custom = new LinkedHashMap<>();
    r.getJsonObject("custom", new JsonObject()).forEach(e -> custom.put(e.getKey(), ((Number) e.getValue()).longValue()));
    GangSpec spec = new GangSpec(id, r.getInteger("nodes"), r.getInteger("actorsPerNode"), new Resources(r.getInteger("gpus"),
      r.getInteger("cpus"), r.getLong("memoryMb"), custom), PlacementStrategy.valueOf(r.getString("strategy")), r.getString("preferredNode"));
    List<String> nodeIds = new ArrayList<>();
    List<int[]> gpuIds = new ArrayList<>();
    for (Object o : r.getJsonArray("ranks")) {
      JsonObject rank = (JsonObject) o;
      nodeIds.add(java.util.Objects.requireNonNull(rank.getString("node"), "node"));
      gpuIds.add(rank.getJsonArray("gpus").stream().mapToInt(g -> ((Number) g).intValue()).toArray());
    }
    GangPlacement placement = state.scheduler.restore(spec, nodeIds, gpuIds);
    String sessionId = java.util.Objects.requireNonNull(r.getString("session"), "session");
    long timeoutMs = r.getLong("timeoutMs");
    int masterPort = r.getInteger("masterPort");
    ClientSession owner = state.sessions.computeIfAbsent(sessionId, ClientSession::new);
    TicketRecord ticket = new TicketRecord(id, owner, r.getBoolean("detached", false), spec, timeoutMs);
    ticket.placement = placement;
    ticket.masterAddr = r.getString("masterAddr");
    ticket.masterPort = masterPort;
    ticket.portHolder = r.getString("portHolder");
    ticket.portCheckedAtNanos = System.nanoTime() - LEASE_TTL_NANOS;
    // An actor may have bound the port before the restart: it goes back to the agent, never to the leases.
    ticket.launched = true;
    ticket.journaled = true;
    ticket.state = "FAILED".equals(r.getString("state")) ? TicketState.FAILED : TicketState.ALLOCATED;
    ticket.reason = r.getString("reason");
    r.getJsonArray("deadNodes", new JsonArray()).forEach(n -> ticket.deadNodes.add((String) n));
    ticket.awaiting.addAll(placement.unboundNodes());
    ticket.awaiting.removeAll(ticket.deadNodes);
    tickets.put(id, ticket);
    owner.tickets.add(id);
    return ticket;
  }

  /** A ticket as a journal record: what a restarted hub needs to hold its resources and answer for it. */
  private static JsonObject record(TicketRecord ticket) {
    GangSpec spec = ticket.spec;
    JsonArray ranks = new JsonArray();
    for (GangPlacement.Rank rank : ticket.placement.ranks()) {
      JsonArray gpus = new JsonArray();
      for (int gpu : rank.reservation().gpuIds()) {
        gpus.add(gpu);
      }
      ranks.add(new JsonObject().put("node", rank.nodeId()).put("gpus", gpus));
    }
    JsonObject custom = new JsonObject();
    spec.perActor().custom().forEach(custom::put);
    JsonObject record = new JsonObject().put("op", "allocated").put("ticket", ticket.id).put("session", ticket.owner.id)
      .put("detached", ticket.detached).put("timeoutMs", ticket.timeoutMs)
      .put("nodes", spec.nodes()).put("actorsPerNode", spec.actorsPerNode()).put("gpus", spec.perActor().gpus())
      .put("cpus", spec.perActor().cpus()).put("memoryMb", spec.perActor().memoryMb()).put("custom", custom)
      .put("strategy", spec.strategy().name()).put("preferredNode", spec.preferredNode())
      .put("masterAddr", ticket.masterAddr).put("masterPort", ticket.masterPort).put("portHolder", ticket.portHolder)
      .put("ranks", ranks);
    if (ticket.state == TicketState.FAILED) {
      record.put("state", "FAILED").put("reason", ticket.reason);
    }
    if (!ticket.deadNodes.isEmpty()) {
      record.put("deadNodes", new JsonArray(new ArrayList<>(ticket.deadNodes)));
    }
    return record;
  }

  /** Everything the journal must keep, for its compaction: released ids, then the journaled live tickets. */
  private List<JsonObject> snapshot() {
    List<JsonObject> records = new ArrayList<>(released.size() + tickets.size());
    for (String id : released.keySet()) {
      records.add(TicketJournal.released(id));
    }
    for (TicketRecord ticket : tickets.values()) {
      if (ticket.journaled && ticket.releasing == null) {
        records.add(record(ticket));
      }
    }
    return records;
  }

  /**
   * A node (re-)registered, reporting the rendezvous ports its agent holds: restored ranks there are reserved as
   * recorded; ports the hub's tickets hold are kept, and every other hold (leases of an earlier connection or hub,
   * tickets released meanwhile) is given back. A ticket whose port the agent no longer holds (the agent restarted)
   * gets one again under its own id.
   */
  void nodeRegistered(NodeRecord node, Map<String, Integer> held) {
    Map<String, TicketRecord> holders = new LinkedHashMap<>();
    for (TicketRecord ticket : tickets.values()) {
      if (ticket.awaiting.remove(node.id)) {
        String missing = state.scheduler.bind(ticket.placement, node.id);
        if (missing != null) {
          log.warn("Ticket {}: node {} no longer has all it held before the hub restarted: {}", ticket.id, node.id, missing);
        }
      }
      if (ticket.placement != null && ticket.portHolder != null && ticket.releasing == null
        && ticket.placement.masterNode().equals(node.id)) {
        holders.put(ticket.portHolder, ticket);
      }
    }
    node.leases.clear();
    for (Map.Entry<String, Integer> hold : held.entrySet()) {
      TicketRecord ticket = holders.get(hold.getKey());
      if (ticket != null && ticket.masterPort == hold.getValue()) {
        holders.remove(hold.getKey());
      } else {
        // Unknown to this hub, or held for a ticket under another port than the one it announced: given back (before
        // the ticket's new reservation below, on the same connection).
        sendReleasePort(node.connection, hold.getKey());
      }
    }
    for (TicketRecord ticket : holders.values()) {
      reservePort(ticket.id, node).onComplete(ar -> {
        if (tickets.get(ticket.id) != ticket || ticket.releasing != null) {
          if (ar.succeeded()) {
            sendReleasePort(node.connection, ticket.id);
          }
          return;
        }
        if (ar.failed()) {
          log.warn("Ticket {}: node {} no longer holds its MASTER_PORT {} and could not reserve another: {}", ticket.id, node.id,
            ticket.masterPort, ar.cause().getMessage());
          return;
        }
        if (ar.result() != ticket.masterPort) {
          log.warn("Ticket {}: node {} no longer held its MASTER_PORT {} (its agent restarted); the ticket's rendezvous is now port {}",
            ticket.id, node.id, ticket.masterPort, ar.result());
        }
        ticket.masterPort = ar.result();
        ticket.portHolder = ticket.id;
        if (journal != null && ticket.journaled) {
          journal.append(record(ticket));
        }
      });
    }
  }

  /**
   * An actor a registering agent runs for a ticket: true if it is taken back as the actor of its rank (it then
   * holds nothing of its own: the ticket does); false if its ticket or rank is unknown here.
   */
  boolean adopt(ActorInfo actor, String nodeId) {
    TicketRecord ticket = tickets.get(actor.ticket());
    if (ticket == null || ticket.placement == null || ticket.releasing != null || actor.rank() < 0
      || actor.rank() >= ticket.spec.worldSize() || !ticket.placement.ranks().get(actor.rank()).nodeId().equals(nodeId)) {
      return false;
    }
    String current = ticket.actors[actor.rank()];
    if (current != null && !current.equals(actor.id()) && state.actors.containsKey(current)) {
      return false;
    }
    ticket.actors[actor.rank()] = actor.id();
    ticket.launched = true;
    return true;
  }

  /** Restored tickets whose nodes did not come back within {@code window} ms of the restart: those nodes are dead. */
  private void restoreDeadline(long window) {
    java.util.Set<String> missing = new java.util.TreeSet<>();
    for (TicketRecord ticket : tickets.values()) {
      missing.addAll(ticket.awaiting);
    }
    for (String nodeId : missing) {
      if (!state.nodes.containsKey(nodeId)) {
        nodeDied(nodeId, "node " + nodeId + " did not register within " + window + " ms of the hub's restart");
      }
    }
  }

  // ------------------------------------------------------------------ introspection

  void list(Connection client, ClientSession session, long requestId, boolean everyone) {
    List<Allocation> list = new ArrayList<>();
    for (TicketRecord ticket : tickets.values()) {
      if (everyone || ticket.owner == session) {
        list.add(allocation(ticket));
      }
    }
    client.reply(requestId, Body.TicketList, TicketCodec.writeTicketList(client.builder(), list), null);
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
    NodeRecord node = state.nodes.get(rank.nodeId());
    List<Integer> gpus = new ArrayList<>();
    for (int gpu : rank.reservation().gpuIds()) {
      gpus.add(gpu);
    }
    String actorId = ticket.actors[rank.rank()];
    ActorInfo actor = actorId == null ? null : directory.actorInfo(actorId);
    return new Slot(ticket.id, rank.rank(), ticket.spec.worldSize(), rank.localRank(), rank.localWorldSize(), rank.nodeId(),
      node == null ? null : node.host, gpus, ticket.masterAddr, ticket.masterPort, actorId,
      actor == null ? (actorId == null ? null : ActorState.EXITED) : actor.state());
  }
}
