// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.ActorNotFoundException;
import io.spoke.vertx.InfeasibleException;
import io.spoke.vertx.InvalidRequestException;
import io.spoke.vertx.NodeUnavailableException;
import io.spoke.vertx.NotLeaderException;
import io.spoke.vertx.PlacementTimeoutException;
import io.spoke.vertx.SchedulingException;
import io.spoke.vertx.SpokeException;
import io.spoke.vertx.TicketNotFoundException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.PlacementStrategy;
import io.spoke.vertx.client.RestartPolicy;
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
import io.vertx.core.json.JsonObject;
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
  StateLog journal;
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
    AllocationRequest request;
    try {
      request = AllocationRequest.read(g);
    } catch (InvalidRequestException e) {
      client.replyFailure(requestId, e);
      return;
    }
    String ticketId = request.spec().ticket();
    GangSpec spec = request.spec();
    if (journal != null && journal.broken() != null) {
      client.replyFailure(requestId, new UnavailableException("the hub cannot write " + journal.where() + " ("
        + journal.broken() + "), so it allocates nothing until it can: " + journal.advice()));
      return;
    }
    TicketRecord existing = tickets.get(ticketId);
    if (existing != null && existing.owner == session && existing.requester == null && existing.releasing == null
      && existing.state == TicketState.ALLOCATED && existing.detached == g.detached() && AllocationRequest.sameGang(existing.spec, spec)) {
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
    ticket.restartPolicy(request.restart());
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
      answer(ticket, Future.failedFuture(ar.cause() instanceof NotLeaderException ? ar.cause() : new SchedulingException("ticket "
        + ticket.id + " could not be recorded in " + journal.where() + " (" + ar.cause().getMessage() + "), so it was not allocated; "
        + journal.advice())));
      release(ticket, "released: it could not be recorded in the journal");
    });
  }

  /** Records a journaled ticket's new placement (its rendezvous port changed), replacing its earlier record. */
  Future<Void> journal(TicketRecord ticket) {
    return record(ticket, JournalRecords.record(ticket));
  }

  /** Records how rank {@code rank} of a gang-restarting ticket was launched (or that it has no recipe, its launch failed). */
  Future<Void> journalLaunch(TicketRecord ticket, int rank) {
    return record(ticket, JournalRecords.launched(ticket, rank));
  }

  /** Records the ticket's gang restarts: how many and when, whether one is under way, and whether it failed. */
  Future<Void> journalRestart(TicketRecord ticket) {
    return record(ticket, JournalRecords.restart(ticket));
  }

  /**
   * Appends {@code record} of a journaled ticket; the future completes once it is on disk, or once the write failed
   * (logged: what changed is in force, and the journal, broken, rewrites the whole state once it can write).
   */
  private Future<Void> record(TicketRecord ticket, JsonObject record) {
    if (journal == null || !ticket.journaled || ticket.releasing != null) {
      return Future.succeededFuture();
    }
    return journal.append(record).recover(err -> {
      if (err instanceof NotLeaderException) {
        log.debug("Ticket {} changed here, on a hub that no longer leads: {}", ticket.id, err.getMessage());
      } else {
        log.error("Ticket {}: the journal could not record its new state ({}); it will once it can write again", ticket.id,
          err.getMessage());
      }
      return Future.succeededFuture();
    });
  }

  /** Completes once everything journaled so far is on disk: what an acknowledgement to an agent waits for. */
  Future<Void> durable() {
    return journal == null ? Future.succeededFuture() : journal.sync();
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
          if (err instanceof ActorNotFoundException && state.actors.get(actorId) == record) {
            // Its agent has no such actor (it never got there, or ended unseen): nothing holds its GPUs.
            directory.forget(record);
          } else {
            log.warn("Releasing ticket {}: could not stop actor {}: {}; it holds its GPUs until its node says it is gone", ticket.id,
              actorId, err.getMessage());
          }
          return Future.succeededFuture();
        }));
      }
    }
    Future.join(new ArrayList<>(stops)).onComplete(ar -> {
      answer(ticket, Future.failedFuture(new SchedulingException("ticket " + ticket.id + " was released before its allocation completed")));
      ticket.state = TicketState.RELEASED;
      directory.gangRestarts.ended(ticket, "its ticket was released while the gang waited to restart");
      // Durable before its GPUs go to anyone: a hub that dies now comes back with the ticket released, never with its
      // GPUs held twice. Until then it is listed, releasing, with what it holds.
      Future<Void> recorded = journal != null && ticket.journaled ? journal.append(TicketJournal.released(ticket.id)).recover(err -> {
        if (err instanceof NotLeaderException) {
          log.debug("Ticket {} is released here, on a hub that no longer leads: {}", ticket.id, err.getMessage());
        } else {
          log.error("Ticket {} is released, but the journal could not record it ({}); it will once it can write again", ticket.id,
            err.getMessage());
        }
        return Future.succeededFuture();
      }) : Future.succeededFuture();
      recorded.onComplete(written -> {
        if (ticket.placement != null) {
          state.scheduler.release(ticket.placement);
          leases.releasePort(ticket);
          directory.orphansOfTicketHoldTheirGpus(ticket.id);
          holdUnconfirmed(ticket);
        }
        remove(ticket);
        released.put(ticket.id, Boolean.TRUE);
        log.info("Ticket {} {}", ticket.id, why);
        drain();
        done.complete();
      });
    });
    return done.future();
  }

  /**
   * The ranks of a released ticket whose stop its node could not confirm (the node is cut off): each is an orphan of its
   * node, holding its GPUs until the node says it is gone.
   */
  private void holdUnconfirmed(TicketRecord ticket) {
    for (String actorId : ticket.actors) {
      ActorRecord record = actorId == null ? null : state.actors.get(actorId);
      NodeRecord node = record == null ? null : state.nodes.get(record.nodeId);
      if (record == null || record.info.ticket() == null || !record.info.ticket().equals(ticket.id)) {
        continue;
      }
      directory.forget(record);
      if (node != null && node.alive) {
        directory.orphan(node, record.info, null);
        directory.stopOrphan(node, actorId);
      }
    }
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
      Future<Void> recorded = journal != null && ticket.journaled
        ? journal.append(TicketJournal.failed(ticket.id, nodeId, why)).otherwiseEmpty() : Future.succeededFuture();
      if (ticket.state == TicketState.FAILED) {
        continue;
      }
      ticket.state = TicketState.FAILED;
      ticket.reason = why;
      log.warn("Ticket {} failed: {}", ticket.id, why);
      directory.gangRestarts.ended(ticket, "its ticket failed: " + why);
      // Its owner hears of it once it is durable.
      recorded.onComplete(written -> {
        answer(ticket, Future.failedFuture(new NodeUnavailableException("ticket " + ticket.id + " failed while allocating: " + why)));
        Connection owner = ticket.owner.connection;
        if (owner != null && !owner.isClosed()) {
          owner.send(HubClientCodec.ticketEvent(views.allocation(ticket)), null);
        }
      });
    }
    drain();
  }

}
