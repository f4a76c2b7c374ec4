// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.TicketState;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The tickets' journal and what a restarted hub takes back from it: tickets rebuilt from the journal, their ranks
 * reserved as their nodes register again, the rendezvous ports the agents still hold, and the actors they still run.
 * Works on the {@link TicketDesk}'s tickets, on the hub's event loop.
 */
final class TicketRecovery {

  private static final Logger log = LogManager.getLogger(TicketRecovery.class);

  private final HubState state;
  private final TicketDesk desk;
  private final GangRestarts gangRestarts;

  TicketRecovery(HubState state, TicketDesk desk, GangRestarts gangRestarts) {
    this.state = state;
    this.desk = desk;
    this.gangRestarts = gangRestarts;
  }

  /**
   * Opens the journal in {@code dir} and takes the tickets it holds back: each keeps its id, owner, placement and
   * rendezvous port, reserving its resources on each node as that node registers ({@link #nodeRegistered}).
   * Nodes not back within {@code window} ms are dead for these tickets, as if they had died.
   *
   * @return the sessions that own restored tickets
   */
  Future<List<ClientSession>> openJournal(java.nio.file.Path dir, long window) {
    TicketJournal opening = new TicketJournal(state.vertx, dir, this::snapshot);
    return state.vertx.executeBlocking(opening::load).map(loaded -> restoreAll(opening, loaded, window));
  }

  /** Reads the state in etcd back, as {@link #openJournal} the journal: what the newly elected leader of a cluster does. */
  Future<List<ClientSession>> openEtcd(Function<Supplier<List<JsonObject>>, EtcdStateLog> opener,
                                       long window) {
    EtcdStateLog opening = opener.apply(this::snapshot);
    return opening.load().map(loaded -> restoreAll(opening, loaded, window));
  }

  private List<ClientSession> restoreAll(StateLog opening, JournalState loaded, long window) {
    desk.journal = opening;
    state.ledger.open(opening, loaded.actors);
    java.util.Set<ClientSession> owners = new java.util.LinkedHashSet<>();
    for (String id : loaded.released) {
      desk.released.put(id, Boolean.TRUE);
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
    log.info("{}: {} tickets restored, {} released ids remembered ({} records read{})", opening.where(), restored,
      loaded.released.size(), loaded.lines, loaded.skipped == 0 ? "" : ", " + loaded.skipped + " unreadable");
    if (restored > 0) {
      state.vertx.setTimer(window, t -> {
        if (!state.stopped) {
          restoreDeadline(window);
        }
      });
    }
    if (!loaded.actors.isEmpty()) {
      state.vertx.setTimer(window, t -> {
        if (!state.stopped) {
          state.ledger.windowOver();
        }
      });
    }
    return new ArrayList<>(owners);
  }

  Future<Void> closeJournal() {
    return desk.journal == null ? Future.succeededFuture() : desk.journal.close();
  }

  private TicketRecord restore(JsonObject record) {
    TicketRecord ticket = JournalRecords.restore(record, state);
    desk.tickets.put(ticket.id, ticket);
    ticket.owner.tickets.add(ticket.id);
    return ticket;
  }

  /** Everything the journal must keep, for its compaction: released ids, the journaled live tickets, the ad-hoc actors. */
  private List<JsonObject> snapshot() {
    List<JsonObject> records = new ArrayList<>(desk.released.size() + desk.tickets.size());
    for (String id : desk.released.keySet()) {
      records.add(TicketJournal.released(id));
    }
    for (TicketRecord ticket : desk.tickets.values()) {
      if (ticket.journaled) {
        // One being released is live until its release is on disk: its stops may not have ended it yet.
        records.add(ticket.state == TicketState.RELEASED ? TicketJournal.released(ticket.id) : JournalRecords.record(ticket));
      }
    }
    records.addAll(state.ledger.records());
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
    for (TicketRecord ticket : desk.tickets.values()) {
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
        PortLeases.sendReleasePort(node.connection, hold.getKey());
      }
    }
    for (TicketRecord ticket : holders.values()) {
      desk.leases.reservePort(ticket.id, node).onComplete(ar -> {
        if (desk.tickets.get(ticket.id) != ticket || ticket.releasing != null) {
          if (ar.succeeded()) {
            PortLeases.sendReleasePort(node.connection, ticket.id);
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
        desk.journal(ticket);
      });
    }
  }

  /**
   * An actor a registering agent runs for a ticket: true if it is taken back as the actor of its rank (it then
   * holds nothing of its own: the ticket does); false if its ticket or rank is unknown here.
   */
  boolean adopt(ActorInfo actor, String nodeId) {
    TicketRecord ticket = desk.tickets.get(actor.ticket());
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

  /**
   * Restored tickets read back in the middle of a gang restart whose nodes are all back (and have reported what they
   * run): their restart is finished.
   */
  void resumeRestarts() {
    for (TicketRecord ticket : new ArrayList<>(desk.tickets.values())) {
      if (ticket.resumeRestart && ticket.awaiting.isEmpty()) {
        ticket.resumeRestart = false;
        gangRestarts.resume(ticket);
      }
    }
  }

  /** Restored tickets whose nodes did not come back within {@code window} ms of the restart: those nodes are dead. */
  private void restoreDeadline(long window) {
    java.util.Set<String> missing = new java.util.TreeSet<>();
    for (TicketRecord ticket : desk.tickets.values()) {
      missing.addAll(ticket.awaiting);
    }
    for (String nodeId : missing) {
      if (!state.nodes.containsKey(nodeId)) {
        desk.nodeDied(nodeId, "node " + nodeId + " did not register within " + window + " ms of the hub's restart");
      }
    }
  }
}
