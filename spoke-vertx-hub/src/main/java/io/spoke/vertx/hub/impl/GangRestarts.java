// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.client.TicketState;
import io.spoke.vertx.hub.scheduler.GangPlacement;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.HubClientCodec;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Gang restarts ({@code GangRequest.setRestart}): when a rank of a ticket fails as its policy says, every other rank
 * is stopped (their agents end whole trees), and after the back-off all start again on their slots from the launches
 * the ticket keeps, with the same rendezvous and {@code SPOKE_ATTEMPT} counting the gang's starts. The ranks' exits
 * meanwhile are the restart's, not deaths: their watchers hear {@link ActorState#RESTARTING}, then the new instances'
 * {@link ActorState#RUNNING}. The budget counts the restarts within the policy's window ({@link
 * io.spoke.vertx.internal.RestartHistory}, as restarts in place do); past it the ticket fails and its owner hears why.
 * <p>
 * A rank starts again only once its last instance is known to be gone, on a node that is connected: a node briefly
 * cut off is waited for (its registration says what became of the rank), and one that does not come back within the
 * node timeout fails the ticket, whose waiting ranks' watchers hear it. Each change is journaled before it takes
 * effect. Confined to the hub's loop.
 */
final class GangRestarts {

  private static final Logger log = LogManager.getLogger(GangRestarts.class);

  private final HubState state;
  private final TicketDesk desk;
  private final ActorDirectory directory;

  GangRestarts(HubState state, TicketDesk desk, ActorDirectory directory) {
    this.state = state;
    this.desk = desk;
    this.directory = directory;
  }

  /**
   * A rank's actor ended ({@code exited}; {@code record} is already out of the directory): whether the gang restart
   * takes it, in which case its watchers have heard it is restarting and are kept for its next instance.
   */
  boolean absorb(ActorRecord record, ActorInfo exited) {
    if (exited.ticket() == null || exited.rank() < 0) {
      return false;
    }
    TicketRecord ticket = desk.tickets.get(exited.ticket());
    if (ticket == null || ticket.releasing != null || ticket.state != TicketState.ALLOCATED || ticket.recipes == null
      || exited.rank() >= ticket.recipes.length) {
      return false;
    }
    int rank = exited.rank();
    boolean waiting = ticket.relaunching.contains(rank);
    if (ticket.restarting || waiting) {
      keep(ticket, record, exited, "stopped for the gang's restart");
      if (waiting && !ticket.restarting) {
        relaunchRank(ticket, rank);
      }
      return true;
    }
    NodeRecord node = state.nodes.get(record.nodeId);
    if (node == null || !node.alive) {
      // Its node died: the ticket fails (a gang is not moved rank by rank), as without a gang restart.
      return false;
    }
    RestartPolicy policy = ticket.restart;
    boolean stopped = exited.reason() != null && exited.reason().startsWith("stopped");
    if (policy.mode() == RestartPolicy.Mode.NEVER || stopped || !policy.restartsAfter(exited.exitCode())) {
      return false;
    }
    if (!ticket.history.take(exited.exitCode(), System.currentTimeMillis())) {
      fail(ticket, "rank " + rank + " (" + exited.id() + ") " + exited.reason() + ticket.history.refusal(exited.exitCode())
        .replace("no restart left", "no gang restart left"));
      return false;
    }
    ticket.restarting = true;
    state.metrics.restarted(HubMetrics.RestartKind.GANG);
    long backoff = ticket.history.backoffMs();
    String why = "rank " + rank + " " + exited.reason();
    log.warn("Ticket {}: {}; restarting every rank in {} ms (gang restart {} of at most {})", ticket.id, why, backoff, restarts(ticket),
      policy.maxRestarts());
    keep(ticket, record, exited, exited.reason());
    ticket.reason = why + "; gang restart " + restarts(ticket) + " of at most " + policy.maxRestarts();
    // On disk before anything stops: a hub that dies from here on finishes this restart when it is back.
    desk.journalRestart(ticket).onComplete(written -> {
      tellOwner(ticket);
      stopAndRelaunch(ticket, backoff);
    });
    return true;
  }

  private static int restarts(TicketRecord ticket) {
    return ticket.history.total();
  }

  /**
   * A ticket read back from the journal in the middle of a gang restart, once its nodes are back and have reported
   * what they run: what of it still runs is stopped, and every rank starts again after the back-off.
   */
  void resume(TicketRecord ticket) {
    if (!ticket.restarting || ticket.recipes == null || ticket.releasing != null || ticket.state != TicketState.ALLOCATED) {
      return;
    }
    log.warn("Ticket {}: the hub restarted during gang restart {} of at most {}; finishing it", ticket.id, restarts(ticket),
      ticket.restart.maxRestarts());
    for (int rank = 0; rank < ticket.recipes.length; rank++) {
      RankRecipe recipe = ticket.recipes[rank];
      if (recipe != null && !state.actors.containsKey(recipe.actorId)) {
        directory.remember(restartingInfo(ticket, rank, recipe, "the hub restarted during the gang's restart"));
      }
    }
    stopAndRelaunch(ticket, ticket.history.backoffMs());
  }

  /** Stops every rank that runs (their exits are the restart's), then after {@code backoff} ms starts them all again. */
  private void stopAndRelaunch(TicketRecord ticket, long backoff) {
    List<Future<Void>> stops = new ArrayList<>();
    for (String actorId : ticket.actors) {
      ActorRecord live = actorId == null ? null : state.actors.get(actorId);
      if (live != null) {
        // A stop that cannot reach a node cut off stays asked for: the rank waits for that node (relaunchRank).
        stops.add(directory.stopActor(live).recover(err -> Future.succeededFuture()));
      }
    }
    Future.join(stops).onComplete(done -> state.vertx.setTimer(Math.max(1, backoff), t -> relaunch(ticket)));
  }

  private ActorInfo restartingInfo(TicketRecord ticket, int rank, RankRecipe recipe, String why) {
    GangPlacement.Rank slot = ticket.placement.ranks().get(rank);
    NodeRecord node = state.nodes.get(slot.nodeId());
    List<Integer> gpus = new ArrayList<>();
    for (int gpu : slot.reservation().gpuIds()) {
      gpus.add(gpu);
    }
    return new ActorInfo(recipe.actorId, recipe.type, slot.nodeId(), node == null ? null : node.host, 0, 0, null, ActorState.RESTARTING,
      -1, why + " (restart " + restarts(ticket) + " of at most " + ticket.restart.maxRestarts() + ")", gpus, ticket.id, rank)
      .withProcess(recipe.process == null ? List.of() : recipe.process.getCommand(), List.of()).withRestarts(restarts(ticket));
  }

  /** The owner's ticket handler hears of each gang restart, and of the ticket's failure. */
  private void tellOwner(TicketRecord ticket) {
    Connection owner = ticket.owner.connection;
    if (owner != null && !owner.isClosed()) {
      owner.send(HubClientCodec.ticketEvent(desk.views.allocation(ticket)), null);
    }
  }

  /** The rank's watchers hear that it restarts with the gang; they are kept for its next instance. */
  private void keep(TicketRecord ticket, ActorRecord record, ActorInfo exited, String why) {
    ticket.keptWatchers.computeIfAbsent(exited.rank(), r -> new HashSet<>()).addAll(record.watchers);
    ActorInfo restarting = exited.withState(ActorState.RESTARTING, exited.exitCode(), why + "; the gang restarts (restart "
      + restarts(ticket) + " of at most " + ticket.restart.maxRestarts() + ")").withRestarts(restarts(ticket));
    // Until its next instance runs, the hub answers for it as restarting: its log, and where it will be.
    directory.remember(restarting);
    for (Connection watcher : record.watchers) {
      if (!watcher.isClosed()) {
        watcher.send(HubClientCodec.actorEvent(restarting), null);
      }
    }
  }

  /** After the back-off: every rank that had been launched starts again on its slot, as soon as it can. */
  private void relaunch(TicketRecord ticket) {
    ticket.restarting = false;
    if (ticket.releasing != null || ticket.state != TicketState.ALLOCATED) {
      ended(ticket, "its ticket ended while the gang waited to restart");
      return;
    }
    for (int rank = 0; rank < ticket.recipes.length; rank++) {
      if (ticket.recipes[rank] != null) {
        ticket.relaunching.add(rank);
      }
    }
    if (ticket.relaunching.isEmpty()) {
      desk.journalRestart(ticket);
      return;
    }
    // The journal has the restart under way until the last rank starts again (some may wait for a node cut off).
    for (int rank : new ArrayList<>(ticket.relaunching)) {
      relaunchRank(ticket, rank);
    }
  }

  /**
   * Starts rank {@code rank} of {@code ticket} again on its slot, if it can now: its last instance known to be gone
   * (not still being stopped on a node cut off), its node connected. Otherwise it waits: the instance's exit, the
   * node's registration ({@link #nodeBack}) or the end of an orphan there ({@link #rankFree}) tries again.
   */
  private void relaunchRank(TicketRecord ticket, int rank) {
    if (ticket.restarting || !ticket.relaunching.contains(rank) || ticket.releasing != null || ticket.state != TicketState.ALLOCATED) {
      return;
    }
    RankRecipe recipe = ticket.recipes[rank];
    GangPlacement.Rank placed = ticket.placement.ranks().get(rank);
    NodeRecord node = state.nodes.get(placed.nodeId());
    if (recipe == null) {
      relaunched(ticket, rank);
      return;
    }
    if (state.actors.containsKey(recipe.actorId) || node == null || node.connection == null || node.holdsOrphanOf(ticket.id, rank)) {
      log.info("Ticket {}: rank {} starts again once node {} is back and its last instance is gone", ticket.id, rank, placed.nodeId());
      return;
    }
    relaunched(ticket, rank);
    // The slot as it is now: the same node, GPUs and rendezvous (its port too, unless the agent restarted meanwhile).
    Slot slot = desk.views.slot(ticket, placed);
    ActorInfo starting = new ActorInfo(recipe.actorId, recipe.type, node.id, node.host, 0, 0, null, ActorState.STARTING, -1, null,
      slot.gpuIds(), ticket.id, rank).withProcess(recipe.process == null ? List.of() : recipe.process.getCommand(), List.of())
      .withRestarts(restarts(ticket));
    ActorRecord record = new ActorRecord(starting, node.id, null);
    Set<Connection> watchers = ticket.keptWatchers.remove(rank);
    if (watchers != null) {
      record.watchers.addAll(watchers);
    }
    Map<String, String> env = new LinkedHashMap<>(recipe.env);
    env.put("SPOKE_ATTEMPT", String.valueOf(restarts(ticket)));
    ticket.actors[rank] = recipe.actorId;
    directory.startActor(new ActorLaunch(null, ticket.owner, 0, record, node, env, recipe.jvmOptions, recipe.timeoutMs,
      recipe.args, slot, () -> { }, recipe.process, RestartPolicy.never(), recipe.liveness));
  }

  /** Rank {@code rank} no longer waits to start again; once none does, the journal has the restart done. */
  private void relaunched(TicketRecord ticket, int rank) {
    if (ticket.relaunching.remove(rank) && ticket.relaunching.isEmpty()) {
      desk.journalRestart(ticket);
    }
  }

  /** Node {@code node} registered again: the ranks there that wait to start again do. */
  void nodeBack(NodeRecord node) {
    for (TicketRecord ticket : new ArrayList<>(desk.tickets.values())) {
      if (ticket.relaunching.isEmpty() || ticket.restarting) {
        continue;
      }
      for (int rank : new ArrayList<>(ticket.relaunching)) {
        if (ticket.placement.ranks().get(rank).nodeId().equals(node.id)) {
          relaunchRank(ticket, rank);
        }
      }
    }
  }

  /** The last instance of rank {@code rank} of ticket {@code ticketId}, an orphan, is gone: the rank may start again. */
  void rankFree(String ticketId, int rank) {
    TicketRecord ticket = desk.tickets.get(ticketId);
    if (ticket != null && rank >= 0) {
      relaunchRank(ticket, rank);
    }
  }

  /**
   * The ticket ended (released, or failed with a node) while ranks waited to start again: their watchers hear that
   * they ended after all.
   */
  void ended(TicketRecord ticket, String why) {
    if (ticket.recipes == null) {
      return;
    }
    ticket.relaunching.clear();
    for (int rank = 0; rank < ticket.recipes.length; rank++) {
      Set<Connection> watchers = ticket.keptWatchers.remove(rank);
      RankRecipe recipe = ticket.recipes[rank];
      if (watchers == null || recipe == null) {
        continue;
      }
      ActorInfo ended = restartingInfo(ticket, rank, recipe, "").withState(ActorState.EXITED, -1, why);
      directory.remember(ended);
      for (Connection watcher : watchers) {
        if (!watcher.isClosed()) {
          watcher.send(HubClientCodec.actorEvent(ended), null);
        }
      }
    }
  }

  private void fail(TicketRecord ticket, String why) {
    ticket.state = TicketState.FAILED;
    ticket.reason = why;
    log.warn("Ticket {} failed: {}", ticket.id, why);
    desk.journalRestart(ticket).onComplete(written -> tellOwner(ticket));
  }
}
