package io.spoke.vertx.hub.impl;

import io.spoke.vertx.ActorNotFoundException;
import io.spoke.vertx.DuplicateActorException;
import io.spoke.vertx.NodeUnavailableException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.hub.scheduler.Reservation;
import io.spoke.vertx.internal.BoundedMap;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.AgentHubCodec;
import io.spoke.vertx.protocol.HubClientCodec;
import io.spoke.vertx.protocol.Messages;
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

  ActorDirectory(HubState state, Runnable resourcesFreed) {
    this.state = state;
    this.resourcesFreed = resourcesFreed;
  }

  /** Replies DuplicateActor to {@code client} and returns true when {@code actorId} is taken. */
  boolean refuseDuplicate(Connection client, long requestId, String actorId) {
    ActorRecord existing = state.actors.get(actorId);
    if (existing == null) {
      return false;
    }
    client.replyFailure(requestId, new DuplicateActorException("actor id '" + actorId + "' is taken by a "
      + existing.info.state().name().toLowerCase() + " actor of type " + existing.info.type() + " on node " + existing.nodeId
      + "; stop it first or choose another id"));
    return true;
  }

  /**
   * Records a starting actor and asks its node's agent to start it; answers the client when the actor is
   * listening, or forgets it and answers with the failure (after running the launch's {@code onFailure}).
   */
  void startActor(ActorLaunch launch) {
    ActorRecord record = launch.record;
    NodeRecord node = launch.node;
    Connection client = launch.client;
    long requestId = launch.requestId;
    String actorId = record.id();
    if (client != null) {
      record.watchers.add(client);
      launch.session.watched.add(actorId);
    }
    state.actors.put(actorId, record);
    node.actors.add(actorId);
    Connection agent = node.connection;
    long timeout = launch.timeoutMs + state.options.getAgentTimeout();
    agent.request(AgentHubCodec.spawn(record.info.type(), actorId, node.id, record.info.gpuIds(), launch.env, launch.jvmOptions,
        launch.timeoutMs, launch.slot, launch.process, launch.restart, launch.liveness), launch.args,
        timeout, "spawn of actor '" + actorId + "' on node " + node.id,
        frame -> Messages.readActorInfo(frame, "the agent"))
      .onComplete(ar -> {
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
        ActorInfo started = ar.result();
        log.info("Actor {} ({}) running on node {} at {}:{}, pid {}", actorId, started.type(), node.id, started.host(), started.port(),
          started.pid());
        if (client != null) {
          record.info = started;
          replyActorInfo(client, requestId, record.info);
        } else {
          changed(record, started.withRestarts(record.info.restarts()));
        }
      });
  }

  /** Asks the actor's agent to stop it; completes when it has exited. */
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
          markExited(record, exited.exitCode(), exited.reason() != null ? exited.reason() : "stopped", exited.logFile());
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

  /** Records an actor's end: frees its resources and id, and tells the clients that know it. */
  void markExited(ActorRecord record, int exitCode, String reason, String logFile) {
    ActorInfo exited = new ActorInfo(record.info.id(), record.info.type(), record.info.nodeId(), record.info.host(), record.info.port(),
      record.info.pid(), logFile != null ? logFile : record.info.logFile(), ActorState.EXITED, exitCode, reason, record.info.gpuIds(),
      record.info.ticket(), record.info.rank()).withProcess(record.info.command(), record.info.ports())
      .withRestarts(record.info.restarts());
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
   * Starts ad-hoc actor {@code record}, whose node died, again on another node with room for what it asked for, under
   * its restart policy's budget; returns false (the caller reports it dead) when it has none, or no node has room.
   * Its watchers hear that it is restarting, then that it runs again.
   */
  boolean relocate(ActorRecord record, String why) {
    ActorLaunch first = record.launch;
    if (first == null || record.resources == null) {
      return false;
    }
    int used = record.info.restarts();
    if (!first.restart.restartsAfter(-1) || used >= first.restart.maxRestarts()) {
      return false;
    }
    Reservation reservation;
    try {
      reservation = state.scheduler.allocate(record.resources, null);
    } catch (RuntimeException noRoom) {
      log.warn("Actor {} cannot be started again: {} and no other node has room ({})", record.id(), why, noRoom.getMessage());
      return false;
    }
    NodeRecord node = state.nodes.get(reservation.nodeId());
    forget(record);
    if (record.reservation != null) {
      resourcesFreed.run();
    }
    List<Integer> gpuIds = new ArrayList<>();
    for (int gpu : reservation.gpuIds()) {
      gpuIds.add(gpu);
    }
    ActorInfo restarting = new ActorInfo(record.id(), record.info.type(), node.id, node.host, 0, 0, null, ActorState.RESTARTING, -1,
      why + "; starting it again on node " + node.id, gpuIds).withProcess(record.info.command(), List.of()).withRestarts(used + 1);
    ActorRecord moved = new ActorRecord(restarting, node.id, reservation);
    moved.watchers.addAll(record.watchers);
    moved.resources = record.resources;
    moved.relocations = record.relocations + 1;
    // The next instance counts on from here: its starts (SPOKE_ATTEMPT) and what is left of the budget.
    java.util.Map<String, String> env = new java.util.LinkedHashMap<>(first.env);
    env.put("SPOKE_ATTEMPT", String.valueOf(used + 1));
    ActorLaunch again = new ActorLaunch(null, first.session, 0, moved, node, env, first.jvmOptions, first.timeoutMs, first.args, null,
      () -> { }, first.process, first.restart.withMaxRestarts(first.restart.maxRestarts() - used - 1), first.liveness);
    moved.launch = again;
    state.metrics.restarted(HubMetrics.RestartKind.MOVED);
    changed(moved, restarting);
    log.info("Actor {}: {}; starting it again on node {}", record.id(), why, node.id);
    startActor(again);
    return true;
  }

  /** A rank between its gang's instances: what the hub answers for it (resolve, logs) until it runs again. */
  void restarting(ActorInfo info) {
    graveyard.put(info.id(), info);
  }

  /** Removes an actor from the directory and frees what it held on its own. */
  void forget(ActorRecord record) {
    state.actors.remove(record.id());
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
