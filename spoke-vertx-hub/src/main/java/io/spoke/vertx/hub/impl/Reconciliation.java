// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.NodeUnavailableException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.TicketState;
import io.spoke.vertx.hub.scheduler.Reservation;
import io.spoke.vertx.protocol.RegisterNodeView;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * What an agent reports when it registers (first, or after any reconnect, or to a restarted hub), reconciled with
 * what the hub knows, so that no instance, exit or GPU is lost or held twice:
 * <ol>
 *   <li>its unacknowledged <b>exits</b>, oldest first: each is the end of the instance it names ({@link #exited}), taken
 *   once (an exit the hub already has, or of a spawn it no longer knows, changes nothing);</li>
 *   <li>its <b>instances</b>, in every state: the hub's own (same node, same spawn) are kept, and a start whose answer
 *   went with the link is settled by what the node says; the others are adopted when nobody else accounts for them
 *   (a restarted hub's actors, ranks of the tickets it took back from its journal) and their GPUs are free, and
 *   otherwise stopped ({@link ActorDirectory#orphan}), holding their GPUs until they are gone;</li>
 *   <li>what the hub placed there that the agent no longer has ended, or never started.</li>
 * </ol>
 * Runs on the hub's event loop.
 */
final class Reconciliation {

  private static final Logger log = LogManager.getLogger(Reconciliation.class);

  private final HubState state;
  private final ActorDirectory directory;
  private final TicketDesk desk;
  private final TicketRecovery recovery;

  Reconciliation(HubState state, ActorDirectory directory, TicketDesk desk, TicketRecovery recovery) {
    this.state = state;
    this.directory = directory;
    this.desk = desk;
    this.recovery = recovery;
  }

  /**
   * Reconciles registration {@code r} of {@code node} (already registered in the scheduler, its restored ticket ranks
   * bound); returns what to send the agent now: stops of the instances the hub does not keep.
   */
  List<Runnable> registered(NodeRecord node, RegisterNodeView r) {
    // What the hub had placed here: a start it asks for while reconciling (a rank an exit freed starts again) is not in
    // the report, and not missing from it either.
    Map<String, ActorRecord> placed = new LinkedHashMap<>();
    for (String actorId : node.actors) {
      ActorRecord record = state.actors.get(actorId);
      if (record != null) {
        placed.put(actorId, record);
      }
    }
    if (r.exitsDropped() > 0) {
      log.warn("Node {} dropped {} exits the hub had not acknowledged (it keeps a bounded number); their actors are reported as no "
        + "longer there", node.id, r.exitsDropped());
    }
    for (int i = 0; i < r.exitCount(); i++) {
      exited(node, r.exit(i));
    }
    List<Runnable> stops = new ArrayList<>();
    Set<String> reported = new HashSet<>();
    for (int i = 0; i < r.actorCount(); i++) {
      ActorInfo instance = r.actor(i);
      reported.add(instance.id());
      instance(node, instance, stops);
    }
    for (Map.Entry<String, ActorRecord> entry : placed.entrySet()) {
      String actorId = entry.getKey();
      ActorRecord record = entry.getValue();
      if (state.actors.get(actorId) != record || reported.contains(actorId)) {
        continue;
      }
      if (record.pending != null) {
        directory.settle(record, Future.failedFuture(new NodeUnavailableException("actor '" + actorId + "' did not start: node "
          + node.id + " does not have it (the link dropped before its spawn got there)")));
      } else if (!directory.relocations.relocate(record, "its agent on node " + node.id + " no longer has it (the agent restarted, say)")) {
        // An actor with a restart policy starts again where there is room (this node too); the others have ended.
        directory.markExited(record, -1, "its agent no longer reports it", record.info.logFile());
      }
    }
    for (String orphan : new ArrayList<>(node.orphans.keySet())) {
      if (!reported.contains(orphan)) {
        directory.releaseOrphan(node, orphan);
      }
    }
    state.ledger.nodeRegistered(node.id, id -> state.actors.containsKey(id) && state.actors.get(id).nodeId.equals(node.id));
    return stops;
  }

  /**
   * An exit from {@code node}'s agent (an acknowledged event, or one its registration carried): the end of the hub's
   * instance if it is that one, of an orphan, or of a gang rank a restarted hub did not see end; nothing otherwise.
   */
  void exited(NodeRecord node, ActorInfo exit) {
    ActorRecord record = state.actors.get(exit.id());
    if (record != null && record.nodeId.equals(node.id) && sameSpawn(record.spawnId, exit.spawnId())) {
      directory.markExited(record, exit);
      return;
    }
    NodeRecord.Orphan orphan = node.orphans.get(exit.id());
    if (orphan != null && sameSpawn(orphan.spawnId(), exit.spawnId())) {
      directory.releaseOrphan(node, exit.id());
      return;
    }
    if (record == null && directory.exited(exit.id()) == null && exit.ticket() != null) {
      TicketRecord ticket = desk.tickets.get(exit.ticket());
      if (ticket != null && ticket.recipes != null && exit.rank() >= 0 && exit.rank() < ticket.recipes.length
        && ticket.recipes[exit.rank()] != null && ticket.recipes[exit.rank()].actorId.equals(exit.id())
        && ticket.placement.ranks().get(exit.rank()).nodeId().equals(node.id)) {
        // A rank of a ticket this hub took back from its journal, which ended while no hub heard: its gang restart
        // policy decides, with its real exit status.
        log.info("Node {}: rank {} of ticket {} ({}) ended while the hub was away: {}", node.id, exit.rank(), ticket.id, exit.id(),
          exit.reason());
        ActorRecord unseen = new ActorRecord(exit, node.id, null);
        unseen.spawnId = exit.spawnId();
        ticket.actors[exit.rank()] = exit.id();
        directory.markExited(unseen, exit);
        return;
      }
    }
    if (record == null && directory.exited(exit.id()) == null) {
      // An instance no hub saw end (this one restarted meanwhile): known as ended, with how.
      directory.remember(exit);
    }
  }

  /** One instance {@code node}'s agent holds: kept, settled, adopted, or stopped ({@code stops}). */
  private void instance(NodeRecord node, ActorInfo instance, List<Runnable> stops) {
    ActorRecord record = state.actors.get(instance.id());
    boolean live = instance.state() != ActorState.STARTING;
    if (record != null && record.nodeId.equals(node.id) && sameSpawn(record.spawnId, instance.spawnId())) {
      if (record.pending != null) {
        if (live) {
          directory.settle(record, Future.succeededFuture(instance));
        }
      } else if (instance.state() != record.info.state() && live && record.info.state() != ActorState.STOPPING) {
        // What it became while the link was down (restarting, running again).
        directory.changed(record, instance.withRestarts(Math.max(instance.restarts(), record.info.restarts())));
      }
      if (record.stopRequested) {
        // A stop that went with the link: asked again.
        stops.add(() -> directory.stopActor(record).recover(err -> Future.succeededFuture()));
      }
      return;
    }
    if (node.orphans.containsKey(instance.id())) {
      stops.add(() -> directory.stopOrphan(node, instance.id()));
      return;
    }
    String why = adopt(node, instance, record);
    if (why != null) {
      log.warn("Node {} holds {} {} ({}), which the hub does not keep: {}; stopping it", node.id, instance.isProcess() ? "process"
        : "actor", instance.id(), instance.state().name().toLowerCase(Locale.ROOT), why);
      if (instance.ticket() != null && instance.state() == ActorState.STARTING) {
        unwaitedRankStart(instance);
      }
      directory.orphan(node, instance, null);
      stops.add(() -> directory.stopOrphan(node, instance.id()));
    }
  }

  /**
   * Adopts {@code instance}, which the hub does not hold ({@code record}: what it holds under that id, elsewhere or of
   * another spawn, or null): null if it did; otherwise why it is not the hub's to keep.
   */
  private String adopt(NodeRecord node, ActorInfo instance, ActorRecord record) {
    if (record != null) {
      return "its id is the hub's actor on node " + record.nodeId + (record.nodeId.equals(node.id) ? " of another spawn" : "");
    }
    if (directory.exited(instance.id()) != null) {
      return "the hub reported it ended (" + directory.exited(instance.id()).reason() + ")";
    }
    // A start that a hub asked for waits for that hub's answer; one that is its agent's own restart in place (it has
    // restarts) waits for nobody, as one between two instances (RESTARTING) does: it is kept like that one.
    if (instance.state() == ActorState.STARTING && instance.restarts() == 0) {
      return "nobody waits for it any more (the hub that asked for it is gone)";
    }
    if (instance.state() == ActorState.STOPPING) {
      return "a stop was asked for it";
    }
    if (instance.ticket() != null) {
      if (recovery.adopt(instance, node.id)) {
        keep(node, instance, null);
        return null;
      }
      if (desk.tickets.containsKey(instance.ticket()) || desk.released.containsKey(instance.ticket())) {
        return "its ticket " + instance.ticket() + (desk.released.containsKey(instance.ticket()) ? " was released"
          : " does not hold it (it failed, or its rank has another actor)");
      }
      log.warn("Node {} runs actor {} of ticket {} rank {}, which this hub does not hold (start the hub with the --state-dir of "
        + "the one before); the actor is kept as an ad-hoc actor with its GPUs", node.id, instance.id(), instance.ticket(), instance.rank());
    }
    Reservation held = state.scheduler.adopt(node.id, instance.gpuIds().stream().mapToInt(Integer::intValue).toArray());
    if (held.gpuIds().length < instance.gpuIds().size()) {
      state.scheduler.release(held);
      return "its GPUs " + instance.gpuIds() + " are held by others here";
    }
    keep(node, instance, held);
    return null;
  }

  private void keep(NodeRecord node, ActorInfo instance, Reservation held) {
    ActorRecord adopted = new ActorRecord(instance, node.id, held);
    adopted.spawnId = instance.spawnId();
    state.actors.put(instance.id(), adopted);
    node.actors.add(instance.id());
    if (held != null) {
      state.ledger.placed(instance.id(), node.id);
    }
  }

  /**
   * A rank's start that nobody waits for (the hub that asked for it is gone). One of a gang restart's relaunches starts
   * again once this one is gone ({@link GangRestarts#rankFree}), at the same attempt; a client's launch, which its
   * client heard fail, leaves no recipe, so that no gang restart starts it again.
   */
  private void unwaitedRankStart(ActorInfo instance) {
    TicketRecord ticket = desk.tickets.get(instance.ticket());
    int rank = instance.rank();
    if (ticket == null || ticket.recipes == null || rank < 0 || rank >= ticket.recipes.length || ticket.recipes[rank] == null
      || !ticket.recipes[rank].actorId.equals(instance.id())) {
      return;
    }
    if (ticket.history.total() > 0 && ticket.state == TicketState.ALLOCATED && ticket.releasing == null) {
      log.warn("Ticket {}: rank {} was starting again for gang restart {} when the hub before this one stopped; it starts again once"
        + " that start is stopped", ticket.id, rank, ticket.history.total());
      if (!ticket.restarting) {
        // A restart still to finish (read back from the journal) relaunches every rank anyway.
        ticket.relaunching.add(rank);
      }
      return;
    }
    ticket.recipes[rank] = null;
    desk.journalLaunch(ticket, rank);
  }

  /** Whether an instance's spawn id is the one the hub knows (an instance without one, from an older hub, is taken as it). */
  private static boolean sameSpawn(String known, String reported) {
    return known == null || reported == null || Objects.equals(known, reported);
  }
}
