// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.ActorNotFoundException;
import io.spoke.vertx.InvalidRequestException;
import io.spoke.vertx.NodeUnavailableException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorLog;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.client.Liveness;
import io.spoke.vertx.client.NodeInfo;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.hub.scheduler.NodeState;
import io.spoke.vertx.hub.scheduler.Resources;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.internal.net.HandlerFailures;
import io.spoke.vertx.internal.net.MessageHandler;
import io.spoke.vertx.protocol.AgentHubCodec;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.HubClientCodec;
import io.spoke.vertx.protocol.Names;
import io.spoke.vertx.protocol.PeerHello;
import io.spoke.vertx.protocol.ReadLogRequest;
import io.spoke.vertx.protocol.SpawnView;
import io.spoke.vertx.protocol.fb.Body;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The hub's handler of clients: their sessions (which survive reconnections, within a grace period), their requests
 * (spawn, stop, resolve, status, logs; gang requests go on to the ticket desk and the rank launcher).
 */
final class ClientHandler {

  private static final Logger log = LogManager.getLogger(ClientHandler.class);

  private final HubState state;
  private final ActorDirectory directory;
  private final TicketDesk tickets;
  private final RankLauncher launcher;
  private final SpawnQueue spawns;
  private long anonymousSessions;

  ClientHandler(HubState state, ActorDirectory directory, TicketDesk tickets, RankLauncher launcher) {
    this.state = state;
    this.directory = directory;
    this.tickets = tickets;
    this.launcher = launcher;
    this.spawns = new SpawnQueue(state, directory);
    tickets.spawns = spawns;
  }

  /** A client said hello: its session, new or resumed, is the connection's. */
  MessageHandler accept(Connection connection, PeerHello hello) {
    String sessionId = hello.session() != null && !hello.session().isEmpty() ? hello.session()
      : "anonymous-" + state.instanceTag + "-" + ++anonymousSessions;
    ClientSession session = state.sessions.computeIfAbsent(sessionId, ClientSession::new);
    if (session.graceTimer >= 0) {
      state.vertx.cancelTimer(session.graceTimer);
      session.graceTimer = -1;
      log.info("Client session {} resumed", sessionId);
    }
    session.connection = connection;
    connection.attachment(session);
    return this::onMessage;
  }

  private void onMessage(Connection connection, Frame frame) {
    ClientSession session = connection.attachment();
    long id = frame.id();
    long start = System.nanoTime();
    int type = frame.bodyType();
    try {
      state.faults.beforeHandling(type);
      switch (type) {
        case Body.Spawn:
          spawn(connection, session, id, HubClientCodec.readSpawn(frame), frame.payload());
          break;
        case Body.Stop:
          stop(connection, id, HubClientCodec.readStop(frame));
          break;
        case Body.Resolve:
          resolve(connection, session, id, HubClientCodec.readResolve(frame));
          break;
        case Body.Status:
          status(connection, id);
          break;
        case Body.ReadLog:
          readLog(connection, id, HubClientCodec.readLogRequest(frame));
          break;
        case Body.GangAllocate:
          tickets.allocate(connection, session, id, HubClientCodec.readGangAllocate(frame));
          break;
        case Body.Launch:
          launcher.launch(connection, session, id, HubClientCodec.readLaunch(frame), frame.payload());
          break;
        case Body.Release:
          tickets.release(connection, id, HubClientCodec.readRelease(frame));
          break;
        case Body.Tickets:
          tickets.views.list(connection, session, id, HubClientCodec.readTickets(frame), tickets.tickets);
          break;
        default:
          HubServer.protocolError(connection, id, "clients may not send message type " + frame.bodyType() + " to the hub");
      }
    } catch (RuntimeException e) {
      HandlerFailures.handle(connection, id, "the hub", "request type " + type + " from " + connection.peerName(), e, log);
    } finally {
      frame.release();
      state.metrics.request(type, start);
    }
  }

  private void spawn(Connection client, ClientSession session, long requestId, SpawnView s, Buffer args) {
    String actorId = s.actorId();
    String actorType = s.actorType();
    String error = Names.checkType(actorType);
    if (error == null) {
      error = Names.checkId("actor id", actorId);
    }
    if (error == null && (s.gpus() < 0 || s.cpus() < 0 || s.memoryMb() < 0 || s.timeoutMs() <= 0)) {
      error = "spawn of " + actorId + ": resources must not be negative and the timeout must be positive";
    }
    if (error != null) {
      client.replyFailure(requestId, new InvalidRequestException(error));
      return;
    }
    ProcessSpec process;
    RestartPolicy restart;
    Liveness liveness;
    try {
      restart = s.restart();
      liveness = s.liveness();
      process = s.process();
      if (process != null) {
        process.validate();
      }
    } catch (IllegalArgumentException e) {
      client.replyFailure(requestId, new InvalidRequestException("spawn of " + actorId + ": " + e.getMessage()));
      return;
    }
    if (directory.refuseDuplicate(client, requestId, actorId)) {
      return;
    }
    String nodeId = s.nodeId() == null || s.nodeId().isEmpty() ? null : s.nodeId();
    spawns.submit(new SpawnQueue.Request(client, session, requestId, actorId, actorType, nodeId, new Resources(s.gpus(), s.cpus(),
      s.memoryMb()), s.env(), s.jvmOptions(), s.timeoutMs(), args, process, restart, liveness, s.waitForResources(), System.nanoTime()));
  }

  private void stop(Connection client, long requestId, String actorId) {
    String error = Names.checkId("actor id", actorId);
    if (error != null) {
      client.replyFailure(requestId, new InvalidRequestException(error));
      return;
    }
    ActorRecord record = state.actors.get(actorId);
    if (record == null) {
      if (refuseExpected(client, requestId, actorId)) {
        return;
      }
      if (directory.exited(actorId) != null) {
        client.reply(requestId, null);
      } else {
        client.replyFailure(requestId, new ActorNotFoundException("no actor '" + actorId + "' is known to the hub"));
      }
      return;
    }
    directory.stopActor(record).onComplete(ar -> {
      if (ar.succeeded()) {
        client.reply(requestId, null);
      } else {
        client.replyFailure(requestId, ar.cause());
      }
    });
  }

  private void resolve(Connection client, ClientSession session, long requestId, String actorId) {
    String error = Names.checkId("actor id", actorId);
    if (error != null) {
      client.replyFailure(requestId, new InvalidRequestException(error));
      return;
    }
    ActorRecord record = state.actors.get(actorId);
    if (record != null) {
      record.watchers.add(client);
      session.watched.add(actorId);
      ActorDirectory.replyActorInfo(client, requestId, record.info);
      return;
    }
    if (refuseExpected(client, requestId, actorId)) {
      return;
    }
    ActorInfo dead = directory.exited(actorId);
    if (dead != null) {
      ActorDirectory.replyActorInfo(client, requestId, dead);
      return;
    }
    client.replyFailure(requestId, new ActorNotFoundException("no actor '" + actorId + "' is known to the hub"));
  }

  /**
   * An actor the hub's state log places on a node that has not registered since this hub took over: not unknown,
   * just not back yet; answered "ask again". True if it was one.
   */
  private boolean refuseExpected(Connection client, long requestId, String actorId) {
    String node = state.ledger.expectedNode(actorId);
    if (node == null) {
      return false;
    }
    client.replyFailure(requestId, new UnavailableException("actor '" + actorId + "' runs on node " + node + ", which has not come back "
      + "to this hub since it took over (a restart, or a new leader); ask again in a moment"));
    return true;
  }

  private void status(Connection client, long requestId) {
    client.reply(requestId, HubClientCodec.clusterStatus(clusterStatus()), null);
  }

  /** The cluster as {@code spoke status} and the status page show it: nodes, live actors, tickets. */
  ClusterStatus clusterStatus() {
    List<NodeInfo> nodeInfos = new ArrayList<>();
    for (NodeRecord node : state.nodes.values()) {
      NodeState resources = state.scheduler.node(node.id);
      List<Integer> free = new ArrayList<>();
      int cpus = 0;
      int freeCpus = 0;
      long memory = 0;
      long freeMemory = 0;
      Map<String, Long> freeCustom = Map.of();
      if (resources != null && node.alive) {
        resources.freeGpus().stream().forEach(free::add);
        cpus = resources.cpus();
        freeCpus = resources.freeCpus();
        memory = resources.memoryMb();
        freeMemory = resources.freeMemoryMb();
        freeCustom = resources.freeCustom();
      }
      nodeInfos.add(new NodeInfo(node.id, node.host, node.port, node.alive, node.gpus, free, cpus, freeCpus, memory, freeMemory,
        node.actors.size(), node.custom, freeCustom));
    }
    List<ActorInfo> actorInfos = new ArrayList<>();
    new TreeMap<>(state.actors).values().forEach(r -> actorInfos.add(r.info));
    List<Allocation> ticketList = tickets.views.all(tickets.tickets);
    return new ClusterStatus(nodeInfos, actorInfos, ticketList, state.hubs.get());
  }

  private void readLog(Connection client, long requestId, ReadLogRequest r) {
    readLog(r.actorId(), r.offset(), r.maxBytes()).onComplete(ar -> {
      if (ar.failed()) {
        client.replyFailure(requestId, ar.cause());
        return;
      }
      ActorLog chunk = ar.result();
      client.reply(requestId, HubClientCodec.logChunk(chunk), chunk.data());
    });
  }

  /** Up to {@code maxBytes} of an actor's log from {@code offset}, read by its agent (clients and the status page). */
  Future<ActorLog> readLog(String actorId, long offset, int maxBytes) {
    String error = Names.checkId("actor id", actorId);
    if (error != null) {
      return Future.failedFuture(new InvalidRequestException(error));
    }
    ActorInfo info = directory.actorInfo(actorId);
    if (info == null) {
      return Future.failedFuture(new ActorNotFoundException("no actor '" + actorId + "' is known to the hub"));
    }
    NodeRecord node = state.nodes.get(info.nodeId());
    if (node == null || node.connection == null) {
      return Future.failedFuture(new NodeUnavailableException("node " + info.nodeId() + " of actor '" + actorId
        + "' is not connected, so its log cannot be read"));
    }
    return node.connection.request(AgentHubCodec.readLog(actorId, offset, Math.min(maxBytes, state.options.getMaxFrameSize() / 2)), null,
      state.options.getAgentTimeout(), "log of actor '" + actorId + "'", frame -> AgentHubCodec.readLogChunk(frame, offset));
  }

  /** A client's connection closed: it stops watching; its session's tickets go unless it is back within the grace period. */
  void closed(Connection connection) {
    ClientSession session = connection.attachment();
    for (String actorId : session.watched) {
      ActorRecord record = state.actors.get(actorId);
      if (record != null) {
        record.watchers.remove(connection);
      }
    }
    if (session.connection != connection) {
      return;
    }
    session.connection = null;
    if (session.tickets.isEmpty()) {
      state.sessions.remove(session.id);
      return;
    }
    long grace = state.options.getClientGracePeriod();
    log.info("Client session {} disconnected; its {} tickets are released unless it reconnects within {} ms", session.id,
      session.tickets.size(), grace);
    startGracePeriod(session, grace);
  }

  /** Releases the session's tickets (but detached ones) unless its client connects within {@code grace} ms. */
  void startGracePeriod(ClientSession session, long grace) {
    session.graceTimer = state.vertx.setTimer(grace, t -> {
      session.graceTimer = -1;
      if (session.connection == null && !state.stopped) {
        state.sessions.remove(session.id);
        tickets.sessionExpired(session);
      }
    });
  }
}
