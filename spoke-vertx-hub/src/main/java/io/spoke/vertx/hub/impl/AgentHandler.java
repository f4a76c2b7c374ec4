// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.InvalidRequestException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.GpuInfo;
import io.spoke.vertx.hub.scheduler.Reservation;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.internal.net.HandlerFailures;
import io.spoke.vertx.internal.net.MessageHandler;
import io.spoke.vertx.protocol.AgentHubCodec;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.Names;
import io.spoke.vertx.protocol.RegisterNodeView;
import io.spoke.vertx.protocol.fb.Body;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The hub's handler of agents: their registration (a node joins, or rejoins with what it still runs), their actor
 * events, and the death of nodes (their heartbeats stop, or their connection closes and they do not come back).
 */
final class AgentHandler {

  private static final Logger log = LogManager.getLogger(AgentHandler.class);

  /** What the hub knows of the agent at the other end of a connection. */
  static final class AgentSession {

    NodeRecord node;
  }

  private final HubState state;
  private final ActorDirectory directory;
  private final TicketDesk tickets;
  private final TicketRecovery recovery;
  private final Reconciliation reconciliation;
  /** When the nodes were last checked (System.nanoTime()), 0 before the first check. */
  private long lastCheckNanos;

  AgentHandler(HubState state, ActorDirectory directory, TicketDesk tickets, TicketRecovery recovery) {
    this.state = state;
    this.directory = directory;
    this.tickets = tickets;
    this.recovery = recovery;
    this.reconciliation = new Reconciliation(state, directory, tickets, recovery);
  }

  /** An agent said hello: it registers next. */
  MessageHandler accept(Connection connection) {
    connection.attachment(new AgentSession());
    return this::onMessage;
  }

  private void onMessage(Connection connection, Frame frame) {
    AgentSession session = connection.attachment();
    long id = frame.id();
    long start = System.nanoTime();
    int type = frame.bodyType();
    try {
      if (session.node != null) {
        session.node.lastSeen = System.nanoTime();
      }
      state.faults.beforeHandling(type);
      switch (type) {
        case Body.RegisterNode:
          register(connection, session, id, AgentHubCodec.readRegisterNode(frame));
          break;
        case Body.Heartbeat:
          if (id != 0) {
            // An agent of several hubs asks: an answer tells it this hub still runs (a paused leader answers nothing).
            connection.reply(id, null);
          }
          break;
        case Body.ActorEvent:
          if (session.node != null) {
            ActorInfo info = AgentHubCodec.readActorEvent(frame);
            if (info != null) {
              onActorEvent(session.node, info);
            }
          }
          if (id != 0) {
            // An exit: acknowledged once what follows from it is on disk; until then the agent keeps it.
            tickets.durable().onComplete(written -> connection.reply(id, null));
          }
          break;
        default:
          HubServer.protocolError(connection, id, "agents may not send message type " + frame.bodyType() + " to the hub");
      }
    } catch (RuntimeException e) {
      HandlerFailures.handle(connection, id, "the hub", "message type " + type + " from agent " + connection.peerName(), e, log);
    } finally {
      state.metrics.request(type, start);
      frame.release();
    }
  }

  private void register(Connection connection, AgentSession session, long requestId, RegisterNodeView r) {
    String nodeId = r.nodeId();
    String error = Names.checkId("node id", nodeId);
    if (error == null && (r.host() == null || r.host().isEmpty())) {
      error = "node " + nodeId + " registered without an address";
    }
    if (error != null) {
      connection.replyFailure(requestId, new InvalidRequestException(error));
      return;
    }
    NodeRecord node = state.nodes.get(nodeId);
    if (node != null && node.connection != null && node.connection != connection && !node.connection.isClosed()) {
      connection.replyFailure(requestId, new InvalidRequestException("node id '" + nodeId + "' is already registered by the agent at "
        + node.connection.remoteAddress() + "; give each agent its own --node-id"));
      return;
    }
    List<GpuInfo> gpus = r.gpus();
    BitSet gpuIds = new BitSet();
    for (GpuInfo gpu : gpus) {
      if (gpu.index() < 0 || gpu.index() > 4096) {
        connection.replyFailure(requestId, new InvalidRequestException("GPU index " + gpu.index() + " of node " + nodeId + " is out of range"));
        return;
      }
      gpuIds.set(gpu.index());
    }
    int cpus = Math.max(0, r.cpus());
    long memory = Math.max(0, r.memoryMb());
    Map<String, Long> custom = r.custom();
    Map<String, Integer> held = r.ports();
    boolean rejoin = node != null;
    if (node == null || !node.alive) {
      if (node != null) {
        state.scheduler.removeNode(nodeId);
      }
      node = new NodeRecord(nodeId);
      state.nodes.put(nodeId, node);
    }
    node.host = r.host();
    node.port = r.port();
    node.gpus = gpus;
    node.custom = custom;
    node.connection = connection;
    node.alive = true;
    node.lastSeen = System.nanoTime();
    session.node = node;
    state.scheduler.addNode(nodeId, gpuIds, cpus, memory, custom);
    // Gang ranks first: a restored ticket's reservations are exact, and take precedence over what is adopted below.
    recovery.nodeRegistered(node, held);
    List<Runnable> stops = reconciliation.registered(node, r);
    recovery.resumeRestarts();
    log.info("Node {} {} at {}:{} with {} GPUs, {} CPUs, {} MiB{}", nodeId, rejoin ? "re-registered" : "registered", node.host,
      node.port, gpus.size(), cpus, memory, custom.isEmpty() ? "" : ", " + custom);
    stops.forEach(Runnable::run);
    directory.gangRestarts.nodeBack(node);
    // The answer acknowledges the exits the registration carried: once what followed from them is on disk.
    tickets.durable().onComplete(written -> connection.reply(requestId, AgentHubCodec.registered((int) state.options.getHeartbeatInterval()),
      null));
    tickets.drain();
  }

  private void onActorEvent(NodeRecord node, ActorInfo info) {
    if (info.state() == ActorState.EXITED) {
      reconciliation.exited(node, info);
      return;
    }
    ActorRecord record = state.actors.get(info.id());
    if (record == null || !record.nodeId.equals(node.id) || (record.spawnId != null && info.spawnId() != null
      && !record.spawnId.equals(info.spawnId()))) {
      return;
    }
    if (record.pending != null) {
      // A start whose answer went with an earlier link: the node says it runs.
      if (info.state() != ActorState.STARTING) {
        directory.settle(record, Future.succeededFuture(info));
      }
      return;
    }
    if (info.state() == ActorState.RESTARTING && record.info.state() != ActorState.RESTARTING) {
      state.metrics.restarted(HubMetrics.RestartKind.IN_PLACE);
    }
    directory.changed(record, info);
  }

  /** An agent's connection closed: its node is dead unless it registers again within the node timeout. */
  void closed(Connection connection) {
    AgentSession session = connection.attachment();
    NodeRecord node = session.node;
    if (node != null && node.connection == connection) {
      node.connection = null;
      state.scheduler.available(node.id, false);
      log.info("Agent of node {} disconnected; the node is dead unless it re-registers within {} ms", node.id,
        state.options.getNodeTimeout());
    }
  }

  /** Nodes whose heartbeats stopped for the node timeout are dead. */
  void checkNodes() {
    long now = System.nanoTime();
    long sinceLast = lastCheckNanos == 0 ? 0 : (now - lastCheckNanos) / 1_000_000L;
    lastCheckNanos = now;
    long interval = Math.max(10, state.options.getHeartbeatInterval() / 2);
    if (sinceLast > Math.max(4 * interval, 1_000)) {
      // The hub itself did not run for a while (paused, starved of CPU): the heartbeats it did not read are no sign
      // that the nodes died. Each gets the node timeout from now to be heard.
      log.warn("The hub did not check its nodes for {} ms (it was paused or starved); they have {} ms from now to be heard", sinceLast,
        state.options.getNodeTimeout());
      for (NodeRecord node : state.nodes.values()) {
        node.lastSeen = Math.max(node.lastSeen, now);
      }
      return;
    }
    for (NodeRecord node : new ArrayList<>(state.nodes.values())) {
      if (node.alive && now - node.lastSeen > state.options.getNodeTimeout() * 1_000_000L) {
        nodeDied(node, "no heartbeat for " + state.options.getNodeTimeout() + " ms");
      }
    }
  }

  private void nodeDied(NodeRecord node, String why) {
    log.warn("Node {} is dead: {}", node.id, why);
    node.alive = false;
    if (node.connection != null) {
      Connection connection = node.connection;
      node.connection = null;
      connection.close();
    }
    String reason = "its node " + node.id + " died (" + why + ")";
    List<ActorRecord> movable = new ArrayList<>();
    for (String actorId : new ArrayList<>(node.actors)) {
      ActorRecord record = state.actors.get(actorId);
      if (record != null && record.launch != null && record.pending == null) {
        movable.add(record);
      } else if (record != null) {
        directory.markExited(record, -1, reason, record.info.logFile());
      }
    }
    state.scheduler.removeNode(node.id);
    // Ad-hoc actors with a restart policy start again elsewhere, if their resources fit there.
    for (ActorRecord record : movable) {
      if (!directory.relocations.relocate(record, reason)) {
        directory.markExited(record, -1, reason, record.info.logFile());
      }
    }
    tickets.nodeDied(node.id, "node " + node.id + " died (" + why + ")");
  }
}
