package io.spoke.vertx.hub.impl;

import io.spoke.vertx.InfeasibleException;
import io.spoke.vertx.InvalidRequestException;
import io.spoke.vertx.NodeUnavailableException;
import io.spoke.vertx.PlacementTimeoutException;
import io.spoke.vertx.SchedulingException;
import io.spoke.vertx.SpokeException;
import io.spoke.vertx.TicketNotFoundException;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.PlacementStrategy;
import io.spoke.vertx.client.TicketState;
import io.spoke.vertx.hub.scheduler.GangPlacement;
import io.spoke.vertx.hub.scheduler.GangSpec;
import io.spoke.vertx.hub.scheduler.Resources;
import io.spoke.vertx.internal.BoundedMap;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.GangAllocateView;
import io.spoke.vertx.protocol.HubClientCodec;
import io.spoke.vertx.protocol.Names;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Gangs on the hub: tickets from allocation (placed at once, or queued until their deadline) through the
 * reservation of a rendezvous port on rank 0's node ({@link PortLeases}) to release, and their failure when a node
 * dies. Launches into their slots are the {@link RankLauncher}'s; the journal and a restarted hub's recovery, the
 * {@link TicketRecovery}'s. Runs on the hub's event loop; the placement decisions are the pure
 * {@link io.spoke.vertx.hub.scheduler.Scheduler}'s.
 */
final class TicketDesk {

  private static final Logger log = LogManager.getLogger(TicketDesk.class);

  /** Released tickets remembered, so that a second release succeeds. */
  static final int RELEASED_KEPT = 4096;

  private final HubState state;
  private final ActorDirectory directory;
  /** Live tickets by id, in the order they were asked for. */
  final Map<String, TicketRecord> tickets = new LinkedHashMap<>();
  /** Released ticket ids: their ids stay taken, and a second release succeeds. */
  final Map<String, Boolean> released = new BoundedMap<>(RELEASED_KEPT);
  final PortLeases leases;
  final TicketViews views;
  /** The journal in the hub's state directory, or null when tickets are kept in memory only ({@link TicketRecovery} opens it). */
  TicketJournal journal;
  /** Ad-hoc spawns that wait for resources: tried after the gangs whenever these are. */
  SpawnQueue spawns;

  TicketDesk(HubState state, ActorDirectory directory) {
    this.state = state;
    this.directory = directory;
    this.leases = new PortLeases(state);
    this.views = new TicketViews(state, directory);
  }

  // ------------------------------------------------------------------ allocate

  void allocate(Connection client, ClientSession session, long requestId, GangAllocateView g) {
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
      custom = g.custom();
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
    io.spoke.vertx.client.RestartPolicy restart = io.spoke.vertx.client.RestartPolicy.never();
    if (error == null) {
      try {
        restart = g.restart();
      } catch (IllegalArgumentException e) {
        error = e.getMessage();
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
      client.reply(requestId, HubClientCodec.allocation(views.allocation(existing)), null);
      return;
    }
    if (existing != null || released.containsKey(ticketId)) {
      client.replyFailure(requestId, new InvalidRequestException("ticket id '" + ticketId + "' is already in use; choose another"));
      return;
    }
    GangPlacement placement;
    try {
      long start = System.nanoTime();
      placement = state.scheduler.submit(spec, g.waitForResources());
      state.metrics.placed(start);
    } catch (SpokeException e) {
      client.replyFailure(requestId, e);
      return;
    }
    TicketRecord ticket = new TicketRecord(ticketId, session, g.detached(), spec, g.timeoutMs());
    ticket.restart = restart;
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
    PortLease lease = leases.takeLease(master);
    if (lease != null) {
      allocated(ticket, lease.port, lease.holder, lease.leasedAtNanos);
      leases.refillLeases(master);
      return;
    }
    Future<Integer> reserved = leases.reservePort(ticket.id, master);
    leases.refillLeases(master);
    reserved.onComplete(ar -> {
      if (tickets.get(ticket.id) != ticket || ticket.releasing != null) {
        // Released while the port was being reserved: the release freed the placement and answered the requester.
        if (ar.succeeded()) {
          ticket.masterPort = ar.result();
          ticket.portHolder = ticket.id;
          ticket.portCheckedAtNanos = System.nanoTime();
          leases.releasePort(ticket);
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
    state.metrics.gangAllocated(ticket.requestedAtNanos);
    log.info("Ticket {} allocated: {} ranks, master {}:{}", ticket.id, ticket.placement.ranks().size(), ticket.masterAddr, ticket.masterPort);
    if (journal == null) {
      answer(ticket, Future.succeededFuture(views.allocation(ticket)));
      return;
    }
    // Answered once on disk: an allocation the client saw survives a hub crash.
    ticket.journaled = true;
    journal.append(JournalRecords.record(ticket)).onComplete(ar -> {
      if (tickets.get(ticket.id) != ticket || ticket.releasing != null) {
        return;
      }
      if (ar.succeeded()) {
        answer(ticket, Future.succeededFuture(views.allocation(ticket)));
        return;
      }
      answer(ticket, Future.failedFuture(new SchedulingException("ticket " + ticket.id + " could not be recorded in the hub's journal ("
        + ar.cause().getMessage() + "), so it was not allocated; check the hub's --state-dir and its disk")));
      release(ticket, "released: it could not be recorded in the journal");
    });
  }

  /**
   * Records a journaled ticket's new state (its rendezvous port, a gang restart, a rank's launch recipe), replacing its
   * earlier record; not waited for: what changed is already in force, and a write that fails is logged.
   */
  void journal(TicketRecord ticket) {
    if (journal == null || !ticket.journaled || ticket.releasing != null) {
      return;
    }
    journal.append(JournalRecords.record(ticket)).onFailure(err -> log.error("Ticket {}: the journal could not record its new state ({}); "
      + "a hub restarted from it would not know it", ticket.id, err.getMessage()));
  }

  /** Answers the allocation request, if still unanswered. */
  private void answer(TicketRecord ticket, Future<Allocation> outcome) {
    Connection requester = ticket.requester;
    ticket.requester = null;
    if (requester == null || requester.isClosed()) {
      return;
    }
    if (outcome.succeeded()) {
      requester.reply(ticket.requestId, HubClientCodec.allocation(outcome.result()), null);
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
    drainGangs();
    if (spawns != null) {
      spawns.drain();
    }
  }

  private void drainGangs() {
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
        client.reply(requestId, null);
      } else {
        client.replyFailure(requestId, notFound(ticketId));
      }
      return;
    }
    release(ticket, "released").onComplete(ar -> client.reply(requestId, null));
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
        leases.releasePort(ticket);
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

  TicketNotFoundException notFound(String ticketId) {
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
        owner.send(HubClientCodec.ticketEvent(views.allocation(ticket)), null);
      }
    }
    drain();
  }

  // ------------------------------------------------------------------ introspection

  void list(Connection client, ClientSession session, long requestId, boolean everyone) {
    List<Allocation> list = new ArrayList<>();
    for (TicketRecord ticket : tickets.values()) {
      if (everyone || ticket.owner == session) {
        list.add(views.allocation(ticket));
      }
    }
    client.reply(requestId, HubClientCodec.ticketList(list), null);
  }

  /** Every live ticket, for the cluster status. */
  List<Allocation> all() {
    List<Allocation> list = new ArrayList<>(tickets.size());
    for (TicketRecord ticket : tickets.values()) {
      list.add(views.allocation(ticket));
    }
    return list;
  }
}
