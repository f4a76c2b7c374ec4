// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import io.spoke.vertx.NotLeaderException;
import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.client.HubInfo;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.internal.net.MessageHandler;
import io.spoke.vertx.protocol.AgentHubCodec;
import io.spoke.vertx.protocol.PeerHello;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.web.Metrics;
import io.spoke.vertx.web.WebFront;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The hub: its server, which hands each connection to the handler of its peer's role ({@link AgentHandler},
 * {@link ClientHandler}), the check of nodes' heartbeats, and the journal's opening and closing. Everything runs on
 * the hub verticle's event loop: no locks. What the handlers share is {@link HubState}; actors are the
 * {@link ActorDirectory}'s, gangs the {@link TicketDesk}'s.
 */
public final class HubServer {

  private static final Logger log = LogManager.getLogger(HubServer.class);

  /**
   * How long, beyond the node timeout, a restarted hub waits for the nodes of its journaled tickets, and for their
   * owners: agents and clients retry at growing intervals, at most 10 s apart. {@code -Dspoke.hub.reconnectAllowanceMs}
   * changes it.
   */
  static final long RECONNECT_ALLOWANCE_MS = 10_000;

  private final Vertx vertx;
  private final HubOptions options;
  private final HubState state;
  private final Set<Connection> connections = new HashSet<>();
  private final TicketDesk tickets;
  private final TicketRecovery recovery;
  private final AgentHandler agents;
  private final ClientHandler clients;
  private final HubWeb web;
  private NetServer server;
  private ClusterAuth auth;
  /** Started and serving: what HaHub hands connections to (before, a standby's refusal answers them). */
  volatile boolean started;
  /** Stopped or stopping: it takes no connection any more, not even one whose handshake began before. */
  private boolean stopping;
  private WebFront front;
  private long checkTimer = -1;
  /** The state in etcd, for the leader of a highly available control plane ({@link HaHub}); null: the state directory, or none. */
  private Function<Supplier<List<JsonObject>>, EtcdStateLog> etcdState;

  public HubServer(Vertx vertx, HubOptions options) {
    this.vertx = vertx;
    this.options = options;
    this.state = new HubState(vertx, options);
    state.metrics = new HubMetrics(Metrics.newRegistry(), state, connections);
    ActorDirectory directory = new ActorDirectory(state, this::drainTickets);
    this.tickets = new TicketDesk(state, directory);
    directory.gangRestarts = new GangRestarts(state, tickets, directory);
    this.recovery = new TicketRecovery(state, tickets, directory.gangRestarts);
    this.agents = new AgentHandler(state, directory, tickets, recovery);
    this.clients = new ClientHandler(state, directory, tickets, new RankLauncher(state, tickets, directory));
    this.web = new HubWeb(state, clients, directory);
  }

  /** Keeps this hub's state in the log {@code etcdState} makes (given the live state, for its repairs) instead of a journal. */
  void etcdState(Function<Supplier<List<JsonObject>>, EtcdStateLog> etcdState) {
    this.etcdState = etcdState;
  }

  /** Where the status finds the hubs of a highly available control plane (the leader first). */
  void hubs(Supplier<List<HubInfo>> hubs) {
    state.hubs = hubs;
  }

  public Future<Void> start() {
    if (options.getNodeTimeout() <= options.getHeartbeatInterval()) {
      return Future.failedFuture(new IllegalArgumentException("nodeTimeout (" + options.getNodeTimeout()
        + " ms) must be longer than heartbeatInterval (" + options.getHeartbeatInterval() + " ms)"));
    }
    ClusterAuth auth;
    byte[] token;
    NetServerOptions serverOptions;
    try {
      token = options.getSecurity().resolveToken();
      auth = ClusterAuth.forServer("the hub", options.getHost(), token, options.getSecurity().isInsecure(),
        log);
      serverOptions = options.getSecurity().applyTo(new NetServerOptions());
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    state.metrics.auth(auth);
    Future<Void> restored = Future.succeededFuture();
    long window = options.getNodeTimeout() + Long.getLong("spoke.hub.reconnectAllowanceMs", RECONNECT_ALLOWANCE_MS);
    Future<List<ClientSession>> owners = etcdState != null ? recovery.openEtcd(etcdState, window)
      : options.getStateDir() != null ? recovery.openJournal(Paths.get(options.getStateDir()), window) : null;
    if (owners != null) {
      restored = owners.map(restoredOwners -> {
        for (ClientSession owner : restoredOwners) {
          clients.startGracePeriod(owner, Math.max(options.getClientGracePeriod(), window));
        }
        return null;
      });
    }
    this.auth = auth;
    if (etcdState != null) {
      // The leader of several hubs: HaHub's server, bound for the hub's whole life, hands it its connections.
      return restored.compose(v -> serve(options.getPort(), token));
    }
    server = vertx.createNetServer(serverOptions.setHost(options.getHost()).setPort(options.getPort()).setTcpNoDelay(true));
    server.connectHandler(this::accept);
    return restored.compose(v -> server.listen()).compose(s -> serve(s.actualPort(), token));
  }

  private Future<Void> serve(int port, byte[] token) {
    checkTimer = vertx.setPeriodic(Math.max(10, options.getHeartbeatInterval() / 2), id -> agents.checkNodes());
    log.info("Hub listening on {}:{}{}{}", options.getHost(), port, auth.hasToken() ? ", cluster token required" : "",
      options.getSecurity().isTls() ? ", TLS" : "");
    return startWeb(token);
  }

  /** Serves a connection a peer opened: its handshake, then the handler of its role. */
  void accept(NetSocket socket) {
    if (stopping) {
      socket.close();
      return;
    }
    Connection.accept(socket, options.getMaxFrameSize(), "hub", auth, this::accept);
  }

  /** The status page, /metrics, /health and /ready, unless the HTTP port is -1. */
  private Future<Void> startWeb(byte[] token) {
    if (options.getHttpPort() < 0) {
      return Future.succeededFuture();
    }
    return vertx.executeBlocking(() -> {
      web.load();
      return null;
    }).compose(v -> WebFront.retry(vertx, etcdState == null ? 0 : WebFront.REBIND_TRIES, () -> WebFront.start(vertx, "the hub",
      options.getHost(), options.getHttpPort(), options.getHttpPort() == HubOptions.DEFAULT_HTTP_PORT && etcdState == null,
      options.getSecurity(), token, state.metrics.registry, () -> state.metrics.refresh(state, tickets.tickets), this::health,
      this::health, web::routes))).map(started -> {
        front = started;
        return null;
      });
  }

  /** Healthy (and ready): it listens, and its journal (if any) takes writes. */
  private Future<String> health() {
    if (server == null && etcdState == null) {
      return Future.succeededFuture("the hub is not listening");
    }
    StateLog journal = tickets.journal;
    if (journal != null && journal.broken() != null) {
      return Future.succeededFuture(journal.where() + " cannot be written (" + journal.broken() + "); the hub allocates nothing until it can");
    }
    return Future.succeededFuture();
  }

  /** The status page's address, or null when it has none. */
  public String httpUrl() {
    return front == null ? null : front.url();
  }

  public int httpPort() {
    return front == null ? -1 : front.actualPort();
  }

  public Future<Void> stop() {
    stopping = true;
    started = false;
    state.stopped = true;
    if (checkTimer >= 0) {
      vertx.cancelTimer(checkTimer);
    }
    web.close();
    Future<Void> unbound = front == null ? Future.succeededFuture() : front.close();
    for (Connection connection : new ArrayList<>(connections)) {
      connection.close();
    }
    Future<Void> closed = server == null ? Future.succeededFuture() : server.close();
    return Future.join(unbound, closed).transform(ar -> recovery.closeJournal());
  }

  public int actualPort() {
    return server == null ? options.getPort() : server.actualPort();
  }

  /**
   * Tells every connected agent that the cluster ends, with {@code exitStatus} and {@code reason} for their embeddings
   * (see {@code AgentVerticle.dismissed()}); completes once each has acknowledged or its link is gone. On the hub's loop.
   */
  public Future<Void> dismissAgents(int exitStatus, String reason) {
    List<Future<Object>> acks = new ArrayList<>();
    for (NodeRecord node : state.nodes.values()) {
      Connection agent = node.connection;
      if (agent != null && !agent.isClosed()) {
        acks.add(agent.request(AgentHubCodec.dismiss(exitStatus, reason), null, options.getAgentTimeout(), "dismissal of node '" + node.id + "'",
            frame -> null)
          .otherwise(e -> {
            log.warn("Node {} did not acknowledge its dismissal: {}", node.id, e.getMessage());
            return null;
          }));
      }
    }
    return Future.join(acks).mapEmpty();
  }

  /** The hub's meters ({@code /metrics}), for HaHub's leadership meters beside them. */
  PrometheusMeterRegistry registry() {
    return state.metrics.registry;
  }

  /** For tests in this package: what the hub knows, faults included. */
  HubState state() {
    return state;
  }

  /** Number of nodes alive, for tests and status lines. */
  public int aliveNodes() {
    return (int) state.nodes.values().stream().filter(n -> n.alive).count();
  }

  private Future<MessageHandler> accept(Connection connection, PeerHello hello) {
    if (stopping) {
      // A handshake that began before the stop (a leader resumed from a pause past its lease, say) serves nothing.
      return Future.failedFuture(etcdState != null ? new NotLeaderException("this hub no longer leads; another hub of the cluster does",
        null) : new UnavailableException("the hub is stopping"));
    }
    switch (hello.role()) {
      case Role.Agent:
        connections.add(connection);
        MessageHandler agent = agents.accept(connection);
        connection.closeHandler(c -> {
          connections.remove(c);
          agents.closed(c);
        });
        return Future.succeededFuture(agent);
      case Role.Client:
        connections.add(connection);
        MessageHandler client = clients.accept(connection, hello);
        connection.closeHandler(c -> {
          connections.remove(c);
          clients.closed(c);
        });
        return Future.succeededFuture(client);
      default:
        return Future.failedFuture(new ProtocolException("the hub serves clients and agents; a peer with role " + hello.role()
          + " connected"));
    }
  }

  /** An actor freed what it held: queued gangs may fit now. */
  private void drainTickets() {
    tickets.drain();
  }

  /** Refuses what a peer sent, and closes its connection. */
  static void protocolError(Connection connection, long id, String message) {
    log.warn("Closing connection with {}: {}", connection.peerName(), message);
    connection.replyError(id, ErrorCode.Protocol, message);
    connection.close();
  }
}
