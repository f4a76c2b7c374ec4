package io.spoke.vertx.agent.impl;

import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.internal.net.ClientHello;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.internal.net.MessageHandler;
import io.spoke.vertx.protocol.AgentHubCodec;
import io.spoke.vertx.protocol.fb.Role;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.SocketAddress;
import java.util.List;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The agent's link to the hub: it connects, registers the node (what it has, the actors it still runs, the ports it
 * holds), sends heartbeats and actor events, and connects again, at growing intervals, whenever the link is lost;
 * actors keep running meanwhile. Runs on the agent's event loop.
 */
final class HubLink {

  private static final Logger log = LogManager.getLogger(HubLink.class);

  static final long MAX_RECONNECT_INTERVAL = 10_000;
  static final long HUB_TIMEOUT = 30_000;

  private final AgentState state;
  private final Vertx vertx;
  private final AgentOptions options;
  private final Promise<Void> registered = Promise.promise();
  private NetClient netClient;
  private ClusterAuth auth;
  private MessageHandler commands;
  private Supplier<List<ActorInfo>> running;
  private Connection hub;
  private long heartbeatTimer = -1;
  private long reconnectTimer = -1;
  private long reconnectDelay;

  HubLink(AgentState state) {
    this.state = state;
    this.vertx = state.vertx;
    this.options = state.options;
    this.reconnectDelay = options.getReconnectInterval();
  }

  /**
   * Connects to the hub, then keeps connected: the hub's commands go to {@code commands}; {@code running} says which
   * actors the node reports when it registers.
   */
  void start(NetClient netClient, ClusterAuth auth, MessageHandler commands, Supplier<List<ActorInfo>> running) {
    this.netClient = netClient;
    this.auth = auth;
    this.commands = commands;
    this.running = running;
    connectHub();
  }

  /** Completes the first time the hub accepts this node. */
  Future<Void> registered() {
    return registered.future();
  }

  /** Whether the current connection to the hub is registered (its heartbeats run from then until it closes). */
  boolean isConnected() {
    return hub != null && !hub.isClosed() && heartbeatTimer >= 0;
  }

  private void connectHub() {
    if (state.stopping) {
      return;
    }
    SocketAddress address = SocketAddress.inetSocketAddress(options.getHubPort(), options.getHubHost());
    ClientHello hello = ClientHello.of(Role.Agent, options.getNodeId(), auth).withMaxFrameSize(options.getMaxFrameSize())
      .withTimeout(HUB_TIMEOUT);
    Connection.connect(netClient, address, hello)
      .compose(connection -> {
        if (state.stopping) {
          connection.close();
          return Future.failedFuture("agent stopping");
        }
        if (state.advertiseHost == null) {
          state.advertiseHost = options.getAdvertiseHost() != null ? options.getAdvertiseHost() : connection.localAddress().hostAddress();
        }
        if (state.nodeId == null) {
          state.nodeId = options.getNodeId() != null ? options.getNodeId()
            : state.advertiseHost.replace(':', '_').replace('%', '_') + "-" + state.port;
        }
        connection.messageHandler(commands);
        connection.closeHandler(this::onHubClosed);
        return register(connection).map(connection);
      })
      .onComplete(ar -> {
        if (ar.succeeded()) {
          hub = ar.result();
          reconnectDelay = options.getReconnectInterval();
          registered.tryComplete();
        } else if (!state.stopping) {
          log.warn("Cannot register with the hub at {}: {}; retrying in {} ms", address, ar.cause().getMessage(), reconnectDelay);
          scheduleReconnect();
        }
      });
  }

  private Future<Void> register(Connection connection) {
    NodeInventory node = state.inventory;
    return connection.request(AgentHubCodec.registerNode(state.nodeId, state.advertiseHost, state.port, node.gpus, node.cpus,
        node.memoryMb, options.getResources(), running.get(), state.ports.held()), null, HUB_TIMEOUT, "registration of node "
        + state.nodeId, AgentHubCodec::readRegistered)
      .map(interval -> {
        log.info("Registered with the hub at {} as node {} (advertising {})", connection.remoteAddress(), state.nodeId,
          state.advertiseHost);
        if (heartbeatTimer >= 0) {
          vertx.cancelTimer(heartbeatTimer);
        }
        heartbeatTimer = vertx.setPeriodic(Math.max(10, interval), t -> heartbeat(connection));
        return null;
      });
  }

  private void heartbeat(Connection connection) {
    if (connection.isClosed()) {
      return;
    }
    connection.send(AgentHubCodec.heartbeat(), null);
  }

  private void onHubClosed(Connection connection) {
    if (hub == connection) {
      hub = null;
    }
    if (heartbeatTimer >= 0) {
      vertx.cancelTimer(heartbeatTimer);
      heartbeatTimer = -1;
    }
    if (!state.stopping) {
      log.warn("Lost the connection to the hub; actors keep running; reconnecting in {} ms", reconnectDelay);
      scheduleReconnect();
    }
  }

  private void scheduleReconnect() {
    if (reconnectTimer >= 0 || state.stopping) {
      return;
    }
    long delay = reconnectDelay;
    reconnectDelay = Math.min(MAX_RECONNECT_INTERVAL, reconnectDelay * 2);
    reconnectTimer = vertx.setTimer(delay, t -> {
      reconnectTimer = -1;
      connectHub();
    });
  }

  /** Tells the hub of an actor's change (it exited), if connected. */
  void sendEvent(ActorInfo info) {
    Connection connection = hub;
    if (connection == null || connection.isClosed()) {
      return;
    }
    connection.send(AgentHubCodec.actorEvent(info), null);
  }

  /** The agent stops: no more heartbeats or reconnections. */
  void cancelTimers() {
    if (heartbeatTimer >= 0) {
      vertx.cancelTimer(heartbeatTimer);
    }
    if (reconnectTimer >= 0) {
      vertx.cancelTimer(reconnectTimer);
    }
  }

  /** Closes the link, once the actors are gone. */
  void close() {
    if (hub != null) {
      hub.close();
    }
  }
}
