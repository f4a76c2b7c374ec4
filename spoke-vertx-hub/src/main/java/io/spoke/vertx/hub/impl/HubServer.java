package io.spoke.vertx.hub.impl;

import com.google.flatbuffers.FlatBufferBuilder;
import io.spoke.vertx.ActorNotFoundException;
import io.spoke.vertx.DuplicateActorException;
import io.spoke.vertx.InvalidRequestException;
import io.spoke.vertx.NodeUnavailableException;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.client.GpuInfo;
import io.spoke.vertx.client.NodeInfo;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.hub.scheduler.NodeState;
import io.spoke.vertx.hub.scheduler.Reservation;
import io.spoke.vertx.hub.scheduler.Resources;
import io.spoke.vertx.internal.BoundedMap;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.internal.net.MessageHandler;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.Messages;
import io.spoke.vertx.protocol.Names;
import io.spoke.vertx.protocol.SpawnCodec;
import io.spoke.vertx.protocol.fb.ActorEvent;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.spoke.vertx.protocol.fb.FbActorInfo;
import io.spoke.vertx.protocol.fb.GangAllocate;
import io.spoke.vertx.protocol.PeerHello;
import io.spoke.vertx.protocol.fb.Launch;
import io.spoke.vertx.protocol.fb.LogChunk;
import io.spoke.vertx.protocol.fb.PortHold;
import io.spoke.vertx.protocol.fb.ReadLog;
import io.spoke.vertx.protocol.fb.RegisterNode;
import io.spoke.vertx.protocol.fb.Registered;
import io.spoke.vertx.protocol.fb.Release;
import io.spoke.vertx.protocol.fb.Resolve;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.protocol.fb.Spawn;
import io.spoke.vertx.protocol.fb.Stop;
import io.spoke.vertx.protocol.fb.Tickets;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The hub's state and protocol handling. Everything runs on the hub verticle's event loop: no locks.
 * Gangs (tickets) are handled by {@link TicketDesk}; this class keeps nodes, actors and client sessions.
 */
public final class HubServer {

  private static final Logger log = LogManager.getLogger(HubServer.class);

  /** Exited state.actors remembered, so that late callers learn why an actor is gone. */
  static final int GRAVEYARD_SIZE = 4096;
  /**
   * How long, beyond the node timeout, a restarted hub waits for the nodes of its journaled tickets, and for their
   * owners: agents and clients retry at growing intervals, at most 10 s apart. {@code -Dspoke.hub.reconnectAllowanceMs}
   * changes it.
   */
  static final long RECONNECT_ALLOWANCE_MS = 10_000;

  private final Vertx vertx;
  private final HubOptions options;
  private final HubState state;
  private final Map<String, ActorInfo> graveyard = new BoundedMap<>(GRAVEYARD_SIZE);
  private final Set<Connection> connections = new HashSet<>();
  private final Directory directory = new Directory();
  private final TicketDesk tickets;
  private NetServer server;
  private long checkTimer = -1;
  private long anonymousSessions;

  public HubServer(Vertx vertx, HubOptions options) {
    this.vertx = vertx;
    this.options = options;
    this.state = new HubState(vertx, options);
    this.tickets = new TicketDesk(state, directory);
  }

  public Future<Void> start() {
    if (options.getNodeTimeout() <= options.getHeartbeatInterval()) {
      return Future.failedFuture(new IllegalArgumentException("nodeTimeout (" + options.getNodeTimeout()
        + " ms) must be longer than heartbeatInterval (" + options.getHeartbeatInterval() + " ms)"));
    }
    ClusterAuth auth;
    NetServerOptions serverOptions;
    try {
      auth = ClusterAuth.forServer("the hub", options.getHost(), options.getSecurity().resolveToken(), options.getSecurity().isInsecure(),
        log);
      serverOptions = options.getSecurity().applyTo(new NetServerOptions());
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    Future<Void> restored = Future.succeededFuture();
    if (options.getStateDir() != null) {
      long window = options.getNodeTimeout() + Long.getLong("spoke.hub.reconnectAllowanceMs", RECONNECT_ALLOWANCE_MS);
      restored = tickets.openJournal(java.nio.file.Paths.get(options.getStateDir()), window).map(owners -> {
        for (ClientSession owner : owners) {
          startGracePeriod(owner, Math.max(options.getClientGracePeriod(), window));
        }
        return null;
      });
    }
    server = vertx.createNetServer(serverOptions.setHost(options.getHost()).setPort(options.getPort()).setTcpNoDelay(true));
    server.connectHandler(socket -> Connection.accept(socket, options.getMaxFrameSize(), "hub", auth, this::accept));
    return restored.compose(v -> server.listen()).map(s -> {
      checkTimer = vertx.setPeriodic(Math.max(10, options.getHeartbeatInterval() / 2), id -> checkNodes());
      log.info("Hub listening on {}:{}{}{}", options.getHost(), s.actualPort(), auth.hasToken() ? ", cluster token required" : "",
        options.getSecurity().isTls() ? ", TLS" : "");
      return null;
    });
  }

  public Future<Void> stop() {
    if (checkTimer >= 0) {
      vertx.cancelTimer(checkTimer);
    }
    for (Connection connection : new ArrayList<>(connections)) {
      connection.close();
    }
    Future<Void> closed = server == null ? Future.succeededFuture() : server.close();
    return closed.transform(ar -> tickets.closeJournal());
  }

  public int actualPort() {
    return server.actualPort();
  }

  /** Number of state.nodes alive, for tests and status lines. */
  public int aliveNodes() {
    return (int) state.nodes.values().stream().filter(n -> n.alive).count();
  }

  private Future<MessageHandler> accept(Connection connection, PeerHello hello) {
    switch (hello.role()) {
      case Role.Agent:
        connections.add(connection);
        connection.attachment(new AgentSession());
        connection.closeHandler(this::onAgentClosed);
        return Future.succeededFuture(this::onAgentMessage);
      case Role.Client:
        connections.add(connection);
        String sessionId = hello.session() != null && !hello.session().isEmpty() ? hello.session()
          : "anonymous-" + state.instanceTag + "-" + ++anonymousSessions;
        ClientSession session = state.sessions.computeIfAbsent(sessionId, ClientSession::new);
        if (session.graceTimer >= 0) {
          vertx.cancelTimer(session.graceTimer);
          session.graceTimer = -1;
          log.info("Client session {} resumed", sessionId);
        }
        session.connection = connection;
        connection.attachment(session);
        connection.closeHandler(this::onClientClosed);
        return Future.succeededFuture(this::onClientMessage);
      default:
        return Future.failedFuture(new ProtocolException("the hub serves clients and agents; a peer with role " + hello.role()
          + " connected"));
    }
  }

  static final class AgentSession {

    NodeRecord node;
  }

  // ------------------------------------------------------------------ agents

  private void onAgentMessage(Connection connection, Frame frame) {
    AgentSession session = connection.attachment();
    long id = frame.id();
    try {
      if (session.node != null) {
        session.node.lastSeen = System.nanoTime();
      }
      switch (frame.bodyType()) {
        case Body.RegisterNode:
          register(connection, session, id, (RegisterNode) frame.header().body(new RegisterNode()));
          break;
        case Body.Heartbeat:
          break;
        case Body.ActorEvent:
          ActorEvent event = (ActorEvent) frame.header().body(new ActorEvent());
          if (session.node != null && event.actor() != null) {
            onAgentActorEvent(session.node, Messages.readActorInfo(event.actor()));
          }
          break;
        default:
          protocolError(connection, id, "agents may not send message type " + frame.bodyType() + " to the hub");
      }
    } catch (RuntimeException e) {
      protocolError(connection, id, "malformed message from agent " + connection.peerName() + ": " + e.getMessage());
    } finally {
      frame.release();
    }
  }

  private void register(Connection connection, AgentSession session, long requestId, RegisterNode r) {
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
    List<GpuInfo> gpus = Messages.readGpus(r.capacity());
    BitSet gpuIds = new BitSet();
    for (GpuInfo gpu : gpus) {
      if (gpu.index() < 0 || gpu.index() > 4096) {
        connection.replyFailure(requestId, new InvalidRequestException("GPU index " + gpu.index() + " of node " + nodeId + " is out of range"));
        return;
      }
      gpuIds.set(gpu.index());
    }
    int cpus = r.capacity() == null ? 0 : Math.max(0, r.capacity().cpus());
    long memory = r.capacity() == null ? 0 : Math.max(0, r.capacity().memoryMb());
    Map<String, Long> custom = Messages.readCustom(r.capacity());
    Map<String, Integer> held = new TreeMap<>();
    PortHold hold = new PortHold();
    for (int i = 0, n = Messages.length(r.portsLength(), "ports"); i < n; i++) {
      r.ports(hold, i);
      held.put(Messages.nonNull(hold.holder(), "port holder"), hold.port());
    }
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
    tickets.nodeRegistered(node, held);

    // Actors the agent runs: keep or adopt them; actors the hub placed there that the agent no longer has are gone.
    Set<String> reported = new HashSet<>();
    FbActorInfo table = new FbActorInfo();
    int count = Messages.length(r.actorsLength(), "state.actors");
    for (int i = 0; i < count; i++) {
      ActorInfo info = Messages.readActorInfo(r.actors(table, i));
      reported.add(info.id());
      if (!state.actors.containsKey(info.id()) && info.state() == ActorState.RUNNING) {
        Reservation reservation = null;
        if (info.ticket() == null || !tickets.adopt(info, nodeId)) {
          if (info.ticket() != null) {
            log.warn("Node {} runs actor {} of ticket {} rank {}, which this hub does not hold (start the hub with the --state-dir of "
              + "the one before); the actor is kept as an ad-hoc actor with its GPUs", nodeId, info.id(), info.ticket(), info.rank());
          }
          reservation = state.scheduler.adopt(nodeId, info.gpuIds().stream().mapToInt(Integer::intValue).toArray());
        }
        state.actors.put(info.id(), new ActorRecord(info, nodeId, reservation));
        node.actors.add(info.id());
      }
    }
    for (String actorId : new ArrayList<>(node.actors)) {
      ActorRecord record = state.actors.get(actorId);
      if (record != null && record.info.state() == ActorState.RUNNING && !reported.contains(actorId)) {
        markExited(record, -1, "its agent no longer reports it", record.info.logFile());
      }
    }
    log.info("Node {} {} at {}:{} with {} GPUs, {} CPUs, {} MiB{}", nodeId, rejoin ? "re-registered" : "registered", node.host,
      node.port, gpus.size(), cpus, memory, custom.isEmpty() ? "" : ", " + custom);
    FlatBufferBuilder b = connection.builder();
    int body = Registered.createRegistered(b, (int) options.getHeartbeatInterval());
    connection.reply(requestId, Body.Registered, body, null);
    tickets.drain();
  }

  private void onAgentActorEvent(NodeRecord node, ActorInfo info) {
    ActorRecord record = state.actors.get(info.id());
    if (record == null || !record.nodeId.equals(node.id)) {
      return;
    }
    if (info.state() == ActorState.EXITED) {
      markExited(record, info.exitCode(), info.reason(), info.logFile());
    }
  }

  private void onAgentClosed(Connection connection) {
    connections.remove(connection);
    AgentSession session = connection.attachment();
    NodeRecord node = session.node;
    if (node != null && node.connection == connection) {
      node.connection = null;
      state.scheduler.available(node.id, false);
      log.info("Agent of node {} disconnected; the node is dead unless it re-registers within {} ms", node.id, options.getNodeTimeout());
    }
  }

  private void checkNodes() {
    long now = System.nanoTime();
    for (NodeRecord node : new ArrayList<>(state.nodes.values())) {
      if (node.alive && now - node.lastSeen > options.getNodeTimeout() * 1_000_000L) {
        nodeDied(node, "no heartbeat for " + options.getNodeTimeout() + " ms");
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
    for (String actorId : new ArrayList<>(node.actors)) {
      ActorRecord record = state.actors.get(actorId);
      if (record != null) {
        markExited(record, -1, reason, record.info.logFile());
      }
    }
    state.scheduler.removeNode(node.id);
    tickets.nodeDied(node.id, "node " + node.id + " died (" + why + ")");
  }

  // ------------------------------------------------------------------ clients

  private void onClientMessage(Connection connection, Frame frame) {
    ClientSession session = connection.attachment();
    long id = frame.id();
    try {
      switch (frame.bodyType()) {
        case Body.Spawn:
          spawn(connection, session, id, (Spawn) frame.header().body(new Spawn()), frame.payload());
          break;
        case Body.Stop:
          stop(connection, id, ((Stop) frame.header().body(new Stop())).actorId());
          break;
        case Body.Resolve:
          resolve(connection, session, id, ((Resolve) frame.header().body(new Resolve())).actorId());
          break;
        case Body.Status:
          status(connection, id);
          break;
        case Body.ReadLog:
          readLog(connection, id, (ReadLog) frame.header().body(new ReadLog()));
          break;
        case Body.GangAllocate:
          tickets.allocate(connection, session, id, (GangAllocate) frame.header().body(new GangAllocate()));
          break;
        case Body.Launch:
          tickets.launch(connection, session, id, (Launch) frame.header().body(new Launch()), frame.payload());
          break;
        case Body.Release:
          tickets.release(connection, id, ((Release) frame.header().body(new Release())).ticket());
          break;
        case Body.Tickets:
          tickets.list(connection, session, id, ((Tickets) frame.header().body(new Tickets())).all());
          break;
        default:
          protocolError(connection, id, "clients may not send message type " + frame.bodyType() + " to the hub");
      }
    } catch (RuntimeException e) {
      protocolError(connection, id, "malformed request from " + connection.peerName() + ": " + e.getMessage());
    } finally {
      frame.release();
    }
  }

  private void spawn(Connection client, ClientSession session, long requestId, Spawn s, Buffer args) {
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
    if (directory.refuseDuplicate(client, requestId, actorId)) {
      return;
    }
    ActorLaunch launch = new ActorLaunch(SpawnCodec.env(s), SpawnCodec.jvmOptions(s), s.timeoutMs(), args, null, () -> { });
    String nodeId = s.nodeId() == null || s.nodeId().isEmpty() ? null : s.nodeId();
    Reservation reservation;
    try {
      reservation = state.scheduler.allocate(new Resources(s.gpus(), s.cpus(), s.memoryMb()), nodeId);
    } catch (RuntimeException e) {
      client.replyFailure(requestId, e);
      return;
    }
    NodeRecord node = state.nodes.get(reservation.nodeId());
    List<Integer> gpuIds = new ArrayList<>();
    for (int gpu : reservation.gpuIds()) {
      gpuIds.add(gpu);
    }
    ActorInfo starting = new ActorInfo(actorId, actorType, node.id, node.host, 0, 0, null, ActorState.STARTING, -1, null, gpuIds);
    ActorRecord record = new ActorRecord(starting, node.id, reservation);
    directory.startActor(client, session, requestId, record, node, launch);
  }

  private void stop(Connection client, long requestId, String actorId) {
    String error = Names.checkId("actor id", actorId);
    if (error != null) {
      client.replyFailure(requestId, new InvalidRequestException(error));
      return;
    }
    ActorRecord record = state.actors.get(actorId);
    if (record == null) {
      if (graveyard.containsKey(actorId)) {
        client.reply(requestId, Body.NONE, 0, null);
      } else {
        client.replyFailure(requestId, new ActorNotFoundException("no actor '" + actorId + "' is known to the hub"));
      }
      return;
    }
    directory.stopActor(record).onComplete(ar -> {
      if (ar.succeeded()) {
        client.reply(requestId, Body.NONE, 0, null);
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
      replyActorInfo(client, requestId, record.info);
      return;
    }
    ActorInfo dead = graveyard.get(actorId);
    if (dead != null) {
      replyActorInfo(client, requestId, dead);
      return;
    }
    client.replyFailure(requestId, new ActorNotFoundException("no actor '" + actorId + "' is known to the hub"));
  }

  private void status(Connection client, long requestId) {
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
    List<Allocation> ticketList = tickets.all();
    FlatBufferBuilder b = client.builder();
    int body = Messages.writeClusterStatus(b, new ClusterStatus(nodeInfos, actorInfos, ticketList));
    client.reply(requestId, Body.FbClusterStatus, body, null);
  }

  private void readLog(Connection client, long requestId, ReadLog r) {
    String actorId = r.actorId();
    String error = Names.checkId("actor id", actorId);
    if (error != null) {
      client.replyFailure(requestId, new InvalidRequestException(error));
      return;
    }
    ActorInfo info = directory.actorInfo(actorId);
    if (info == null) {
      client.replyFailure(requestId, new ActorNotFoundException("no actor '" + actorId + "' is known to the hub"));
      return;
    }
    NodeRecord node = state.nodes.get(info.nodeId());
    if (node == null || node.connection == null) {
      client.replyFailure(requestId, new NodeUnavailableException("node " + info.nodeId() + " of actor '" + actorId
        + "' is not connected, so its log cannot be read"));
      return;
    }
    Connection agent = node.connection;
    FlatBufferBuilder b = agent.builder();
    int body = ReadLog.createReadLog(b, b.createString(actorId), r.offset(), Math.min(r.maxBytes(), options.getMaxFrameSize() / 2));
    long offset = r.offset();
    agent.request(Body.ReadLog, body, null, options.getAgentTimeout(), "log of actor '" + actorId + "'", frame -> {
      if (frame.bodyType() != Body.LogChunk) {
        throw new ProtocolException("the agent answered with message type " + frame.bodyType() + " instead of a log chunk");
      }
      LogChunk chunk = (LogChunk) frame.header().body(new LogChunk());
      return new io.spoke.vertx.client.ActorLog(chunk.path(), offset, chunk.nextOffset(), chunk.size(), chunk.running(),
        frame.copyPayload());
    }).onComplete(ar -> {
      if (ar.failed()) {
        client.replyFailure(requestId, ar.cause());
        return;
      }
      io.spoke.vertx.client.ActorLog chunk = ar.result();
      FlatBufferBuilder cb = client.builder();
      int reply = LogChunk.createLogChunk(cb, Messages.string(cb, chunk.path()), chunk.nextOffset(), chunk.size(), chunk.running());
      client.reply(requestId, Body.LogChunk, reply, chunk.data());
    });
  }

  private void onClientClosed(Connection connection) {
    connections.remove(connection);
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
    long grace = options.getClientGracePeriod();
    log.info("Client session {} disconnected; its {} tickets are released unless it reconnects within {} ms", session.id,
      session.tickets.size(), grace);
    startGracePeriod(session, grace);
  }

  /** Releases the session's tickets (but detached ones) unless its client connects within {@code grace} ms. */
  private void startGracePeriod(ClientSession session, long grace) {
    session.graceTimer = vertx.setTimer(grace, t -> {
      session.graceTimer = -1;
      if (session.connection == null) {
        state.sessions.remove(session.id);
        tickets.sessionExpired(session);
      }
    });
  }

  // ------------------------------------------------------------------ actors

  /** Records an actor's end: frees its resources and id, and tells the clients that know it. */
  void markExited(ActorRecord record, int exitCode, String reason, String logFile) {
    ActorInfo exited = new ActorInfo(record.info.id(), record.info.type(), record.info.nodeId(), record.info.host(), record.info.port(),
      record.info.pid(), logFile != null ? logFile : record.info.logFile(), ActorState.EXITED, exitCode, reason, record.info.gpuIds(),
      record.info.ticket(), record.info.rank());
    forget(record);
    graveyard.put(exited.id(), exited);
    log.info("Actor {} exited: {}", exited.id(), reason);
    for (Connection watcher : record.watchers) {
      if (!watcher.isClosed()) {
        FlatBufferBuilder b = watcher.builder();
        int info = Messages.writeActorInfo(b, exited);
        watcher.send(Body.ActorEvent, ActorEvent.createActorEvent(b, info), null);
        ClientSession session = watcher.attachment();
        session.watched.remove(exited.id());
      }
    }
  }

  /** Removes an actor from the directory and frees what it held on its own. */
  void forget(ActorRecord record) {
    state.actors.remove(record.id());
    if (record.reservation != null) {
      state.scheduler.release(record.reservation);
      tickets.drain();
    }
    NodeRecord node = state.nodes.get(record.nodeId);
    if (node != null) {
      node.actors.remove(record.id());
    }
  }

  static void replyActorInfo(Connection connection, long requestId, ActorInfo info) {
    FlatBufferBuilder b = connection.builder();
    int body = Messages.writeActorInfo(b, info);
    connection.reply(requestId, Body.FbActorInfo, body, null);
  }

  private static void protocolError(Connection connection, long id, String message) {
    log.warn("Closing connection with {}: {}", connection.peerName(), message);
    connection.replyError(id, ErrorCode.Protocol, message, null, Body.NONE, 0);
    connection.close();
  }

  /** The state.actors' start, stop and lookup: for this class's handlers and the ticket desk. */
  private final class Directory implements ActorDirectory {

    @Override
    public boolean refuseDuplicate(Connection client, long requestId, String actorId) {
      ActorRecord existing = state.actors.get(actorId);
      if (existing == null) {
        return false;
      }
      client.replyFailure(requestId, new DuplicateActorException("actor id '" + actorId + "' is taken by a "
        + existing.info.state().name().toLowerCase() + " actor of type " + existing.info.type() + " on node " + existing.nodeId
        + "; stop it first or choose another id"));
      return true;
    }

    @Override
    public void startActor(Connection client, ClientSession session, long requestId, ActorRecord record, NodeRecord node, ActorLaunch launch) {
      String actorId = record.id();
      record.watchers.add(client);
      session.watched.add(actorId);
      state.actors.put(actorId, record);
      node.actors.add(actorId);
      Connection agent = node.connection;
      int body = SpawnCodec.writeSpawn(agent.builder(), record.info.type(), actorId, node.id, record.info.gpuIds(), launch.env,
        launch.jvmOptions, launch.timeoutMs, launch.slot);
      long timeout = launch.timeoutMs + options.getAgentTimeout();
      agent.request(Body.Spawn, body, launch.args, timeout, "spawn of actor '" + actorId + "' on node " + node.id,
          frame -> Messages.readActorInfo(frame, "the agent"))
        .onComplete(ar -> {
          if (state.actors.get(actorId) != record) {
            // Stopped, or its node died, while starting: markExited already cleaned up.
            launch.onFailure.run();
            client.replyFailure(requestId, ar.failed() ? ar.cause() : new ActorNotFoundException("actor '" + actorId
              + "' was stopped while it started"));
            return;
          }
          if (ar.failed()) {
            forget(record);
            launch.onFailure.run();
            client.replyFailure(requestId, ar.cause());
            return;
          }
          record.info = ar.result();
          log.info("Actor {} ({}) running on node {} at {}:{}, pid {}", actorId, record.info.type(), node.id, record.info.host(),
            record.info.port(), record.info.pid());
          replyActorInfo(client, requestId, record.info);
        });
    }

    @Override
    public Future<Void> stopActor(ActorRecord record) {
      NodeRecord node = state.nodes.get(record.nodeId);
      if (node == null || node.connection == null) {
        return Future.failedFuture(new NodeUnavailableException("node " + record.nodeId + " of actor '" + record.id()
          + "' is disconnected; the actor will be reported dead if the node does not return within " + options.getNodeTimeout() + " ms"));
      }
      Connection agent = node.connection;
      FlatBufferBuilder b = agent.builder();
      int body = Stop.createStop(b, b.createString(record.id()));
      return agent.request(Body.Stop, body, null, options.getAgentTimeout() + 60_000, "stop of actor '" + record.id() + "'",
          frame -> Messages.readActorInfo(frame, "the agent"))
        .map(exited -> {
          if (state.actors.get(record.id()) == record) {
            markExited(record, exited.exitCode(), exited.reason() != null ? exited.reason() : "stopped", exited.logFile());
          }
          return null;
        });
    }

    @Override
    public ActorInfo actorInfo(String actorId) {
      ActorRecord record = state.actors.get(actorId);
      return record != null ? record.info : graveyard.get(actorId);
    }
  }
}
