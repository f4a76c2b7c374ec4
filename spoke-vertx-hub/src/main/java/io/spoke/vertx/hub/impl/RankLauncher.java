// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.InvalidRequestException;
import io.spoke.vertx.NodeUnavailableException;
import io.spoke.vertx.SlotTakenException;
import io.spoke.vertx.SpokeException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Liveness;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.client.TicketState;
import io.spoke.vertx.hub.scheduler.GangPlacement;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.LaunchView;
import io.spoke.vertx.protocol.Names;
import io.vertx.core.buffer.Buffer;
import java.util.List;
import java.util.Map;

/**
 * Launches into gangs' slots: a client's actor started in a rank of its allocated ticket, on the rank's node, with
 * the rank's GPUs and rendezvous (its {@link Slot}). A rank runs one actor at a time.
 */
final class RankLauncher {

  private final HubState state;
  private final TicketDesk desk;
  private final ActorDirectory directory;

  RankLauncher(HubState state, TicketDesk desk, ActorDirectory directory) {
    this.state = state;
    this.desk = desk;
    this.directory = directory;
  }

  /** A client's launch of an actor into rank {@code l.rank()} of its ticket: answered when the actor runs, or did not start. */
  void launch(Connection client, ClientSession session, long requestId, LaunchView l, Buffer args) {
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
    TicketRecord ticket = desk.tickets.get(l.ticket());
    SpokeException refusal = null;
    if (ticket == null || ticket.releasing != null) {
      refusal = desk.notFound(l.ticket());
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
    ProcessSpec process;
    RestartPolicy restart;
    Liveness liveness;
    try {
      restart = l.restart();
      liveness = l.liveness();
      process = l.process();
      if (process != null) {
        process.validate();
      }
    } catch (IllegalArgumentException e) {
      client.replyFailure(requestId, new InvalidRequestException("launch of rank " + l.rank() + ": " + e.getMessage()));
      return;
    }
    if (directory.refuseDuplicate(client, requestId, l.actorId())) {
      return;
    }
    Map<String, String> env = l.env();
    List<String> jvmOptions = l.jvmOptions();
    GangPlacement.Rank rank = ticket.placement.ranks().get(l.rank());
    NodeRecord node = state.nodes.get(rank.nodeId());
    if (node == null || node.connection == null) {
      client.replyFailure(requestId, new NodeUnavailableException("node " + rank.nodeId() + " of rank " + l.rank() + " of ticket "
        + ticket.id + " is not connected"));
      return;
    }
    if (node.holdsOrphanOf(ticket.id, l.rank())) {
      client.replyFailure(requestId, new SlotTakenException("rank " + l.rank() + " of ticket " + ticket.id + ": its last actor is still "
        + "being stopped on node " + node.id + " (the node was cut off when it was asked to stop); launch it again once it is gone"));
      return;
    }
    Slot slot = desk.views.slot(ticket, rank);
    ActorInfo starting = new ActorInfo(l.actorId(), l.actorType(), node.id, node.host, 0, 0, null, ActorState.STARTING, -1, null,
      slot.gpuIds(), ticket.id, l.rank());
    if (process != null) {
      starting = starting.withProcess(process.getCommand(), List.of());
    }
    ActorRecord record = new ActorRecord(starting, node.id, null);
    // Read now: the failure below runs after the frame is released.
    String actorId = l.actorId();
    int rankIndex = l.rank();
    String previous = ticket.actors[rankIndex];
    ticket.actors[rankIndex] = actorId;
    ticket.launched = true;
    if (ticket.restart.mode() == RestartPolicy.Mode.NEVER) {
      directory.startActor(new ActorLaunch(client, session, requestId, record, node, env, jvmOptions, l.timeoutMs(), args, slot,
        () -> giveBack(ticket, rankIndex, actorId, previous, null), process, restart, liveness));
      return;
    }
    // The gang restarts as a whole: the ticket's policy, not the rank's own, and each rank's launch kept for it, on disk
    // before the rank starts (a hub that dies after it started relaunches it with the gang).
    if (ticket.recipes == null) {
      ticket.recipes = new RankRecipe[ticket.spec.worldSize()];
    }
    RankRecipe recipe = new RankRecipe(actorId, l.actorType(), env, jvmOptions, l.timeoutMs(), args, process, liveness);
    ticket.recipes[rankIndex] = recipe;
    ActorLaunch launch = new ActorLaunch(client, session, requestId, record, node, env, jvmOptions, l.timeoutMs(), recipe.args, slot,
      () -> giveBack(ticket, rankIndex, actorId, previous, recipe), process, RestartPolicy.never(), liveness);
    // Held while the journal writes: the rank is taken, and a release meanwhile finds it.
    state.actors.put(actorId, record);
    node.actors.add(actorId);
    desk.journalLaunch(ticket, rankIndex).onComplete(written -> {
      if (state.actors.get(actorId) != record || ticket.releasing != null || node.connection == null) {
        state.actors.remove(actorId, record);
        node.actors.remove(actorId);
        launch.onFailure.run();
        client.replyFailure(requestId, ticket.releasing != null ? desk.notFound(ticket.id) : new NodeUnavailableException("launch of rank "
          + rankIndex + " of ticket " + ticket.id + ": it was stopped, or node " + node.id + " went away, while it was recorded"));
        return;
      }
      directory.startActor(launch);
    });
  }

  /**
   * A launch into rank {@code rank} did not start: the rank is its previous actor's again, and a recipe the launch
   * made is dropped (journaled), so that no later gang restart starts what never ran.
   */
  private void giveBack(TicketRecord ticket, int rank, String actorId, String previous, RankRecipe recipe) {
    if (actorId.equals(ticket.actors[rank])) {
      ticket.actors[rank] = previous;
    }
    if (recipe != null && ticket.recipes != null && ticket.recipes[rank] == recipe) {
      ticket.recipes[rank] = null;
      desk.journalLaunch(ticket, rank);
    }
  }
}
