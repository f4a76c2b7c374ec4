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
 * {@link ActorState#RUNNING}. Past the budget the ticket fails and its owner hears why. Confined to the hub's loop.
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
    if (ticket == null || ticket.releasing != null || ticket.state != TicketState.ALLOCATED || ticket.recipes == null) {
      return false;
    }
    RestartPolicy policy = ticket.restart;
    NodeRecord node = state.nodes.get(record.nodeId);
    if (!ticket.restarting && (node == null || !node.alive)) {
      // Its node died: the ticket fails (a gang is not moved rank by rank), as without a gang restart.
      return false;
    }
    if (ticket.restarting) {
      keep(ticket, record, exited, "stopped for the gang's restart");
      return true;
    }
    boolean stopped = exited.reason() != null && exited.reason().startsWith("stopped");
    if (policy.mode() == RestartPolicy.Mode.NEVER || stopped || !policy.restartsAfter(exited.exitCode())) {
      return false;
    }
    if (ticket.restarts >= policy.maxRestarts()) {
      fail(ticket, "rank " + exited.rank() + " (" + exited.id() + ") " + exited.reason() + "; no gang restart left ("
        + policy.maxRestarts() + ")");
      return false;
    }
    ticket.restarting = true;
    ticket.restarts++;
    state.metrics.restarted(HubMetrics.RestartKind.GANG);
    long backoff = policy.backoffBefore(ticket.restarts);
    String why = "rank " + exited.rank() + " " + exited.reason();
    log.warn("Ticket {}: {}; restarting every rank in {} ms (gang restart {} of at most {})", ticket.id, why, backoff, ticket.restarts,
      policy.maxRestarts());
    keep(ticket, record, exited, exited.reason());
    ticket.reason = why + "; gang restart " + ticket.restarts + " of at most " + policy.maxRestarts();
    // On disk before the ranks stop: a hub that dies from here on finishes this restart when it is back.
    desk.journal(ticket);
    tellOwner(ticket);
    stopAndRelaunch(ticket, backoff);
    return true;
  }

  /**
   * A ticket read back from the journal in the middle of a gang restart, once its nodes are back and have reported
   * what they run: what of it still runs is stopped, and every rank starts again after the back-off.
   */
  void resume(TicketRecord ticket) {
    if (!ticket.restarting || ticket.recipes == null || ticket.releasing != null || ticket.state != TicketState.ALLOCATED) {
      return;
    }
    log.warn("Ticket {}: the hub restarted during gang restart {} of at most {}; finishing it", ticket.id, ticket.restarts,
      ticket.restart.maxRestarts());
    for (int rank = 0; rank < ticket.recipes.length; rank++) {
      RankRecipe recipe = ticket.recipes[rank];
      if (recipe != null && !state.actors.containsKey(recipe.actorId)) {
        directory.restarting(restartingInfo(ticket, rank, recipe, "the hub restarted during the gang's restart"));
      }
    }
    stopAndRelaunch(ticket, ticket.restart.backoffBefore(ticket.restarts));
  }

  /** Stops every rank that runs (their exits are the restart's), then after {@code backoff} ms starts them all again. */
  private void stopAndRelaunch(TicketRecord ticket, long backoff) {
    List<Future<Void>> stops = new ArrayList<>();
    for (String actorId : ticket.actors) {
      ActorRecord live = actorId == null ? null : state.actors.get(actorId);
      if (live != null) {
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
      -1, why + " (restart " + ticket.restarts + " of at most " + ticket.restart.maxRestarts() + ")", gpus, ticket.id, rank)
      .withProcess(recipe.process == null ? List.of() : recipe.process.getCommand(), List.of()).withRestarts(ticket.restarts);
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
      + ticket.restarts + " of at most " + ticket.restart.maxRestarts() + ")").withRestarts(ticket.restarts);
    // Until its next instance runs, the hub answers for it as restarting: its log, and where it will be.
    directory.restarting(restarting);
    for (Connection watcher : record.watchers) {
      if (!watcher.isClosed()) {
        watcher.send(HubClientCodec.actorEvent(restarting), null);
      }
    }
  }

  /** After the back-off: every rank that had been launched starts again on its slot. */
  private void relaunch(TicketRecord ticket) {
    ticket.restarting = false;
    if (ticket.releasing != null || ticket.state != TicketState.ALLOCATED) {
      // Released (or failed) during the back-off: the ranks' watchers hear that they ended after all.
      for (int rank = 0; rank < ticket.recipes.length; rank++) {
        Set<Connection> watchers = ticket.keptWatchers.remove(rank);
        RankRecipe recipe = ticket.recipes[rank];
        if (watchers == null || recipe == null) {
          continue;
        }
        ActorInfo ended = restartingInfo(ticket, rank, recipe, "").withState(ActorState.EXITED, -1,
          "its ticket ended while the gang waited to restart");
        for (Connection watcher : watchers) {
          if (!watcher.isClosed()) {
            watcher.send(HubClientCodec.actorEvent(ended), null);
          }
        }
      }
      return;
    }
    desk.journal(ticket);
    for (int rank = 0; rank < ticket.recipes.length; rank++) {
      RankRecipe recipe = ticket.recipes[rank];
      GangPlacement.Rank placed = ticket.placement.ranks().get(rank);
      NodeRecord node = state.nodes.get(placed.nodeId());
      if (recipe == null || node == null || node.connection == null || state.actors.containsKey(recipe.actorId)) {
        continue;
      }
      // The slot as it is now: the same node, GPUs and rendezvous (its port too, unless the agent restarted meanwhile).
      Slot slot = desk.views.slot(ticket, placed);
      ActorInfo starting = new ActorInfo(recipe.actorId, recipe.type, node.id, node.host, 0, 0, null, ActorState.STARTING, -1, null,
        slot.gpuIds(), ticket.id, rank).withProcess(recipe.process == null ? List.of() : recipe.process.getCommand(), List.of())
        .withRestarts(ticket.restarts);
      ActorRecord record = new ActorRecord(starting, node.id, null);
      Set<Connection> watchers = ticket.keptWatchers.remove(rank);
      if (watchers != null) {
        record.watchers.addAll(watchers);
      }
      Map<String, String> env = new LinkedHashMap<>(recipe.env);
      env.put("SPOKE_ATTEMPT", String.valueOf(ticket.restarts));
      ticket.actors[rank] = recipe.actorId;
      directory.startActor(new ActorLaunch(null, ticket.owner, 0, record, node, env, recipe.jvmOptions, recipe.timeoutMs,
        recipe.args, slot, () -> { }, recipe.process, RestartPolicy.never(), recipe.liveness));
    }
  }

  private void fail(TicketRecord ticket, String why) {
    ticket.state = TicketState.FAILED;
    ticket.reason = why;
    log.warn("Ticket {} failed: {}", ticket.id, why);
    desk.journal(ticket);
    tellOwner(ticket);
  }
}
