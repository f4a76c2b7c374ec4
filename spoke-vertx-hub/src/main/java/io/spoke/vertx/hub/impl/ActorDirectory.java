// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.ActorNotFoundException;
import io.spoke.vertx.DuplicateActorException;
import io.spoke.vertx.NodeUnavailableException;
import io.spoke.vertx.SpawnException;
import io.spoke.vertx.SpokeTimeoutException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.hub.scheduler.Reservation;
import io.spoke.vertx.internal.BoundedMap;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.AgentHubCodec;
import io.spoke.vertx.protocol.HubClientCodec;
import io.spoke.vertx.protocol.Messages;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The hub's actors: their start and stop through their agents, their end (what they held is freed, their watchers
 * told), and what the hub knows of each, running ({@link HubState#actors}) or recently exited (the graveyard). For
 * the clients' handler and the ticket desk.
 */
final class ActorDirectory {

  private static final Logger log = LogManager.getLogger(ActorDirectory.class);

  /** Exited actors remembered, so that late callers learn why an actor is gone. */
  static final int GRAVEYARD_SIZE = 4096;

  private final HubState state;
  /** Runs when an actor freed resources of its own: queued gangs may fit now. */
  private final Runnable resourcesFreed;
  private final Map<String, ActorInfo> graveyard = new BoundedMap<>(GRAVEYARD_SIZE);
  /** Gang restarts, which may take a rank's exit for their own; set once the ticket desk exists. */
  GangRestarts gangRestarts;
  /** Ad-hoc actors with a restart policy, started again elsewhere (or in place) when their node or agent lost them. */
  final Relocations relocations;

  ActorDirectory(HubState state, Runnable resourcesFreed) {
    this.state = state;
    this.resourcesFreed = resourcesFreed;
    this.relocations = new Relocations(state, this);
  }

  /** Replies DuplicateActor to {@code client} and returns true when {@code actorId} is taken. */
  boolean refuseDuplicate(Connection client, long requestId, String actorId) {
    ActorRecord existing = state.actors.get(actorId);
    if (existing == null) {
      String expected = state.ledger.expectedNode(actorId);
      if (expected == null) {
        return false;
      }
      client.replyFailure(requestId, new DuplicateActorException("actor id '" + actorId + "' is taken by an actor on node " + expected
        + ", which has not come back to this hub since it took over; once it has, the actor is there again (or its id free)"));
      return true;
    }
    client.replyFailure(requestId, new DuplicateActorException("actor id '" + actorId + "' is taken by a "
      + existing.info.state().name().toLowerCase() + " actor of type " + existing.info.type() + " on node " + existing.nodeId
      + "; stop it first or choose another id"));
    return true;
  }

  /**
   * Records a starting actor and asks its node's agent to start it; answers the client when the actor is
   * listening, or forgets it and answers with the failure (after running the launch's {@code onFailure}). When the
   * agent's link drops before the answer, the start waits for the node to come back and say how it went
   * ({@link #settle}), within the spawn's timeout; a node that dies fails it.
   */
  void startActor(ActorLaunch launch) {
    ActorRecord record = launch.record;
    NodeRecord node = launch.node;
    Connection client = launch.client;
    String actorId = record.id();
    if (client != null) {
      record.watchers.add(client);
      launch.session.watched.add(actorId);
    }
    record.spawnId = state.nextSpawnId();
    record.info = record.info.withSpawnId(record.spawnId);
    state.actors.put(actorId, record);
    node.actors.add(actorId);
    if (launch.slot == null) {
      state.ledger.placed(actorId, node.id);
    }
    Connection agent = node.connection;
    long timeout = launch.timeoutMs + state.options.getAgentTimeout();
    long deadline = System.nanoTime() + timeout * 1_000_000L;
    agent.request(AgentHubCodec.spawn(record.info.type(), actorId, node.id, record.info.gpuIds(), launch.env, launch.jvmOptions,
        launch.timeoutMs, launch.slot, launch.process, launch.restart, launch.liveness, record.spawnId), launch.args,
        timeout, "spawn of actor '" + actorId + "' on node " + node.id,
        frame -> Messages.readActorInfo(frame, "the agent"))
      .onComplete(ar -> {
        if (ar.failed() && agent.isClosed() && state.actors.get(actorId) == record) {
          // The answer went with the link: the node says how the start went when it registers again.
          record.pending = launch;
          long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000L);
          record.pendingTimer = state.vertx.setTimer(left, t -> {
            record.pendingTimer = -1;
            if (record.pending != null && state.actors.get(actorId) == record) {
              pendingTimedOut(record, timeout);
            }
          });
          log.warn("The link to node {} dropped while actor {} was starting; waiting (at most {} ms) for the node to say how it went",
            node.id, actorId, left);
          return;
        }
        finish(launch, ar);
      });
  }

  /** A start's outcome (the agent's answer, or what the node said of it once back), as its client hears it. */
  private void finish(ActorLaunch launch, AsyncResult<ActorInfo> ar) {
    ActorRecord record = launch.record;
    NodeRecord node = launch.node;
    Connection client = launch.client;
    long requestId = launch.requestId;
    String actorId = record.id();
    if (state.actors.get(actorId) != record) {
      // Stopped, or its node died, while starting: markExited already cleaned up.
      launch.onFailure.run();
      if (client != null) {
        client.replyFailure(requestId, ar.failed() ? ar.cause() : new ActorNotFoundException("actor '" + actorId
          + "' was stopped while it started"));
      }
      return;
    }
    if (ar.failed()) {
      launch.onFailure.run();
      if (client != null) {
        if (record.stopRequested) {
          // Stopped before it was ready: known as stopped, as any stopped actor, not as never spawned.
          markExited(record, -1, "stopped before it was ready", null);
        } else {
          forget(record);
        }
        client.replyFailure(requestId, ar.cause());
      } else {
        markExited(record, -1, "could not be started again on node " + node.id + ": " + ar.cause().getMessage(), null);
      }
      return;
    }
    ActorInfo started = ar.result().withSpawnId(record.spawnId);
    log.info("Actor {} ({}) running on node {} at {}:{}, pid {}", actorId, started.type(), node.id, started.host(), started.port(),
      started.pid());
    if (client != null) {
      record.info = started;
      replyActorInfo(client, requestId, record.info);
    } else {
      changed(record, started.withRestarts(record.info.restarts()));
    }
  }

  /**
   * Settles a start whose answer went with its agent's link ({@link ActorRecord#pending}): the node, back, says it runs
   * ({@code outcome} succeeded) or that it ended or never came (failed).
   */
  void settle(ActorRecord record, AsyncResult<ActorInfo> outcome) {
    ActorLaunch launch = unsettled(record);
    if (launch != null) {
      finish(launch, outcome);
    }
  }

  /** Takes {@code record}'s start whose answer went with the link off it (its timer cancelled); null if it has none. */
  private ActorLaunch unsettled(ActorRecord record) {
    ActorLaunch launch = record.pending;
    record.pending = null;
    if (record.pendingTimer >= 0) {
      state.vertx.cancelTimer(record.pendingTimer);
      record.pendingTimer = -1;
    }
    return launch;
  }

  /** A start whose answer went with the link fails: its client hears {@code failure}. */
  private static void failUnsettled(ActorLaunch launch, Throwable failure) {
    launch.onFailure.run();
    if (launch.client != null) {
      launch.client.replyFailure(launch.requestId, failure);
    }
  }

  /**
   * A start whose answer went with its agent's link did not settle within its timeout: it fails; if it runs there after
   * all, it is stopped (or will be, when its node is back), and holds its GPUs until then. A start nobody asked for
   * (a gang's relaunch, a relocation) ends as an exit, so that its gang or its watchers hear of it.
   */
  private void pendingTimedOut(ActorRecord record, long timeout) {
    NodeRecord node = state.nodes.get(record.nodeId);
    String why = "did not start on node " + record.nodeId + " within " + timeout + " ms (the link to the node dropped while it started)";
    ActorLaunch launch = unsettled(record);
    if (node != null) {
      orphan(node, record.info, record.reservation);
      // The orphan holds what the record held until its node says it is gone.
      record.reservation = null;
      if (node.connection != null) {
        stopOrphan(node, record.id());
      }
    }
    if (launch.client == null) {
      launch.onFailure.run();
      markExited(record, -1, why, null);
      return;
    }
    forget(record);
    failUnsettled(launch, new SpokeTimeoutException("actor '" + record.id() + "' " + why));
  }

  /**
   * An instance on {@code node} that the hub no longer accounts for, being stopped (it lives elsewhere or ended as far
   * as everyone was told, its start was given up, its stop could not be confirmed): it holds its GPUs ({@code held}, or
   * those of them still free) until its node confirms it is gone.
   */
  void orphan(NodeRecord node, ActorInfo instance, Reservation held) {
    int[] gpuIds = instance.gpuIds().stream().mapToInt(Integer::intValue).toArray();
    Reservation reservation = held;
    if (reservation == null && state.scheduler.node(node.id) != null) {
      reservation = state.scheduler.adopt(node.id, gpuIds);
    }
    NodeRecord.Orphan previous = node.orphans.put(instance.id(), new NodeRecord.Orphan(instance.id(), instance.spawnId(),
      instance.ticket(), instance.rank(), gpuIds, reservation));
    if (previous != null && previous.reservation() != null && previous.reservation() != reservation) {
      state.scheduler.release(previous.reservation());
    }
    log.warn("Node {}: instance {} ({}) is not the hub's to keep; it is stopped, and holds GPUs {} until it is gone", node.id,
      instance.id(), instance.state(), instance.gpuIds());
  }

  /** Asks {@code node}'s agent to stop orphan {@code actorId}; its GPUs are free once the agent says it is gone. */
  void stopOrphan(NodeRecord node, String actorId) {
    Connection agent = node.connection;
    if (agent == null || !node.orphans.containsKey(actorId)) {
      return;
    }
    agent.request(AgentHubCodec.stop(actorId), null, state.options.getAgentTimeout() + 60_000, "stop of orphan '" + actorId + "'",
        frame -> null)
      .onComplete(ar -> {
        // Gone (stopped, or not there at all): its GPUs are free. A lost link leaves it to the node's next registration.
        if (ar.succeeded() || !(agent.isClosed() || ar.cause() instanceof SpokeTimeoutException)) {
          releaseOrphan(node, actorId);
        }
      });
  }

  /**
   * Ticket {@code ticketId} gave its GPUs back: the orphans of its ranks, still being stopped, take those they run on,
   * so that nobody else gets them before they are gone.
   */
  void orphansOfTicketHoldTheirGpus(String ticketId) {
    for (NodeRecord node : state.nodes.values()) {
      if (state.scheduler.node(node.id) == null) {
        continue;
      }
      node.orphans.replaceAll((id, orphan) -> {
        if (!ticketId.equals(orphan.ticket())) {
          return orphan;
        }
        if (orphan.reservation() != null) {
          state.scheduler.release(orphan.reservation());
        }
        return new NodeRecord.Orphan(id, orphan.spawnId(), orphan.ticket(), orphan.rank(), orphan.gpuIds(),
          state.scheduler.adopt(node.id, orphan.gpuIds()));
      });
    }
  }

  /** Orphan {@code actorId} of {@code node} is gone: what it held is free. */
  void releaseOrphan(NodeRecord node, String actorId) {
    NodeRecord.Orphan orphan = node.orphans.remove(actorId);
    if (orphan == null) {
      return;
    }
    if (orphan.reservation() != null) {
      state.scheduler.release(orphan.reservation());
      resourcesFreed.run();
    }
    if (orphan.ticket() != null && gangRestarts != null) {
      gangRestarts.rankFree(orphan.ticket(), orphan.rank());
    }
  }

  /**
   * Asks the actor's agent to stop it; completes when it has exited. A stop that cannot reach the agent fails; the stop
   * stays asked for, and the node's next registration sends it again.
   */
  Future<Void> stopActor(ActorRecord record) {
    record.stopRequested = true;
    NodeRecord node = state.nodes.get(record.nodeId);
    if (node == null || node.connection == null) {
      return Future.failedFuture(new NodeUnavailableException("node " + record.nodeId + " of actor '" + record.id()
        + "' is disconnected; the actor will be reported dead if the node does not return within " + state.options.getNodeTimeout()
        + " ms"));
    }
    Connection agent = node.connection;
    return agent.request(AgentHubCodec.stop(record.id()), null, state.options.getAgentTimeout() + 60_000, "stop of actor '"
        + record.id() + "'", frame -> Messages.readActorInfo(frame, "the agent"))
      .map(exited -> {
        if (state.actors.get(record.id()) == record) {
          markExited(record, exited.withState(ActorState.EXITED, exited.exitCode(), exited.reason() != null ? exited.reason() : "stopped"));
        }
        return null;
      });
  }

  /** What the hub knows of an actor, running or recently exited; null if nothing. */
  ActorInfo actorInfo(String actorId) {
    ActorRecord record = state.actors.get(actorId);
    return record != null ? record.info : graveyard.get(actorId);
  }

  /** Recently exited actors (and gang ranks between their instances), oldest first. */
  java.util.Collection<ActorInfo> recentlyExited() {
    return graveyard.values();
  }

  /** A recently exited actor, or null. */
  ActorInfo exited(String actorId) {
    return graveyard.get(actorId);
  }

  /** Records an actor's end, as the hub saw it (now): frees its resources and id, and tells the clients that know it. */
  void markExited(ActorRecord record, int exitCode, String reason, String logFile) {
    markExited(record, new ActorInfo(record.id(), record.info.type(), record.nodeId, null, 0, 0, logFile, ActorState.EXITED, exitCode,
      reason, List.of()).withExitedAt(System.currentTimeMillis()));
  }

  /**
   * Records an actor's end as its agent reported it ({@code exit}: its status, reason, log, restarts and time): frees
   * its resources and id, and tells the clients that know it.
   */
  void markExited(ActorRecord record, ActorInfo exit) {
    ActorInfo exited = new ActorInfo(record.info.id(), record.info.type(), record.info.nodeId(), record.info.host(), record.info.port(),
      record.info.pid(), exit.logFile() != null ? exit.logFile() : record.info.logFile(), ActorState.EXITED, exit.exitCode(),
      exit.reason(), record.info.gpuIds(), record.info.ticket(), record.info.rank()).withProcess(record.info.command(), record.info.ports())
      .withRestarts(Math.max(record.info.restarts(), exit.restarts())).withSpawnId(record.spawnId)
      .withExitedAt(exit.exitedAtMs() > 0 ? exit.exitedAtMs() : System.currentTimeMillis());
    String reason = exit.reason();
    ActorLaunch ended = unsettled(record);
    if (ended != null) {
      // A start whose answer went with the link, and which ended there: its client hears why.
      failUnsettled(ended, new SpawnException("actor '" + record.id() + "' did not start on node " + record.nodeId + ": " + reason));
    }
    forget(record);
    state.metrics.exited(exited);
    if (gangRestarts != null && gangRestarts.absorb(record, exited)) {
      return;
    }
    graveyard.put(exited.id(), exited);
    log.info("Actor {} exited: {}", exited.id(), reason);
    for (Connection watcher : record.watchers) {
      if (!watcher.isClosed()) {
        watcher.send(HubClientCodec.actorEvent(exited), null);
        ClientSession session = watcher.attachment();
        session.watched.remove(exited.id());
      }
    }
  }

  /**
   * An agent says how a running actor is now (restarting after a death, running again): its watchers hear of it; what
   * it holds stays with it.
   */
  void changed(ActorRecord record, ActorInfo info) {
    record.info = info;
    if (info.state() == ActorState.RESTARTING) {
      log.info("Actor {} on node {} {}; restarting it (restart {})", info.id(), record.nodeId, info.reason(), info.restarts() + 1);
    } else if (info.state() == ActorState.RUNNING) {
      log.info("Actor {} running again on node {}, pid {} (restart {})", info.id(), record.nodeId, info.pid(), info.restarts());
    }
    for (Connection watcher : record.watchers) {
      if (!watcher.isClosed()) {
        watcher.send(HubClientCodec.actorEvent(info), null);
      }
    }
  }

  /**
   * What the hub answers for an actor it holds no record of (resolve, logs): a rank between its gang's instances
   * until it runs again, or an instance that ended while no hub heard.
   */
  void remember(ActorInfo info) {
    graveyard.put(info.id(), info);
  }

  /** Removes an actor from the directory and frees what it held on its own; a start still unsettled fails. */
  void forget(ActorRecord record) {
    ActorLaunch unsettled = unsettled(record);
    if (unsettled != null) {
      failUnsettled(unsettled, new ActorNotFoundException("actor '" + record.id() + "' was stopped while it started"));
    }
    state.actors.remove(record.id());
    state.ledger.gone(record.id());
    if (record.reservation != null) {
      state.scheduler.release(record.reservation);
      resourcesFreed.run();
    }
    NodeRecord node = state.nodes.get(record.nodeId);
    if (node != null) {
      node.actors.remove(record.id());
    }
  }

  static void replyActorInfo(Connection connection, long requestId, ActorInfo info) {
    connection.reply(requestId, HubClientCodec.actorInfo(info), null);
  }
}
