// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import io.spoke.vertx.SpokeTimeoutException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.internal.Jitter;
import io.spoke.vertx.internal.net.ClientHello;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.internal.net.HubEndpoints;
import io.spoke.vertx.internal.net.MessageHandler;
import io.spoke.vertx.protocol.AgentHubCodec;
import io.spoke.vertx.protocol.fb.Role;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The agent's link to the hub: it connects, registers the node (what it has, every instance it holds, the ports it
 * holds, and the exits the hub has not acknowledged), sends heartbeats and actor events, and connects again, at
 * growing intervals with jitter, whenever the link is lost; actors keep running meanwhile.
 * <p>
 * Exits are never lost with the link: each is kept until the hub acknowledges it (its answer to the exit, or to the
 * registration that carried it), at most {@link #MAX_UNACKED_EXITS} of them (the oldest go first, counted, and the hub
 * is told how many). Runs on the agent's event loop.
 */
final class HubLink {

  private static final Logger log = LogManager.getLogger(HubLink.class);

  static final long MAX_RECONNECT_INTERVAL = 10_000;
  /**
   * With several hubs, the longest wait between tries: a failover ends within about the leader's lease, and a standby's
   * refusal costs it little.
   */
  static final long MAX_RECONNECT_INTERVAL_HA = 1_000;
  static final long HUB_TIMEOUT = 30_000;
  /** With several hubs: the least time a hub may leave a heartbeat unanswered before the agent goes to the others. */
  static final long HUB_SILENCE_MIN_MS = 3_000;
  /** Exits kept for the hub while it has not acknowledged them. */
  static final int MAX_UNACKED_EXITS = 4096;
  /** How long before an exit the hub did not answer (its connection still open) is sent again. */
  static final long EXIT_RESEND_MS = 1_000;

  private final AgentState state;
  private final Vertx vertx;
  private final AgentOptions options;
  private final Promise<Void> registered = Promise.promise();
  private NetClient netClient;
  private ClusterAuth auth;
  private MessageHandler commands;
  private Supplier<List<ActorInfo>> instances;
  /** Exits the hub has not acknowledged, oldest first; and how many older ones were not kept. */
  private final ArrayDeque<ActorInfo> unacked = new ArrayDeque<>();
  private long droppedExits;
  private Connection hub;
  private long heartbeatTimer = -1;
  private long reconnectTimer = -1;
  private long reconnectDelay;
  private final HubEndpoints hubs;

  HubLink(AgentState state) {
    this.state = state;
    this.vertx = state.vertx;
    this.options = state.options;
    this.reconnectDelay = options.getReconnectInterval();
    this.hubs = HubEndpoints.of(options.getHubAddresses(), options.getHubHost(), options.getHubPort());
  }

  /**
   * Connects to the hub, then keeps connected: the hub's commands go to {@code commands}; {@code instances} says what
   * the node reports when it registers (every instance it holds, in every state).
   */
  void start(NetClient netClient, ClusterAuth auth, MessageHandler commands, Supplier<List<ActorInfo>> instances) {
    this.netClient = netClient;
    this.auth = auth;
    this.commands = commands;
    this.instances = instances;
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
    ClientHello hello = ClientHello.of(Role.Agent, options.getNodeId(), auth).withMaxFrameSize(options.getMaxFrameSize())
      .withTimeout(HUB_TIMEOUT);
    hubs.connect(netClient, hello)
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
        // A registration the hub refused or failed leaves nothing half-registered: the next try is a new connection.
        return register(connection).map(connection).onFailure(err -> connection.close());
      })
      .onComplete(ar -> {
        if (ar.succeeded()) {
          hub = ar.result();
          reconnectDelay = options.getReconnectInterval();
          registered.tryComplete();
        } else if (!state.stopping) {
          log.warn("Cannot register with the hub at {}: {}; retrying in {} ms", hubs.describe(), ar.cause().getMessage(), reconnectDelay);
          scheduleReconnect();
        }
      });
  }

  private Future<Void> register(Connection connection) {
    NodeInventory node = state.inventory;
    List<ActorInfo> exits = new ArrayList<>(unacked);
    long dropped = droppedExits;
    return connection.request(AgentHubCodec.registerNode(state.nodeId, state.advertiseHost, state.port, node.gpus, node.cpus,
        node.memoryMb, options.getResources(), instances.get(), state.ports.held(), exits, dropped), null, HUB_TIMEOUT,
        "registration of node " + state.nodeId, AgentHubCodec::readRegistered)
      .map(interval -> {
        log.info("Registered with the hub at {} as node {} (advertising {}{})", connection.remoteAddress(), state.nodeId,
          state.advertiseHost, exits.isEmpty() ? "" : "; " + exits.size() + " exits it had not heard of");
        // The answer acknowledges the exits the registration carried; those that came since go now.
        exits.forEach(unacked::remove);
        droppedExits -= dropped;
        if (heartbeatTimer >= 0) {
          vertx.cancelTimer(heartbeatTimer);
        }
        heartbeatTimer = vertx.setPeriodic(Math.max(10, interval), t -> heartbeat(connection, interval));
        for (ActorInfo exit : new ArrayList<>(unacked)) {
          sendExit(connection, exit);
        }
        return null;
      });
  }

  private void heartbeat(Connection connection, long interval) {
    if (connection.isClosed()) {
      return;
    }
    if (hubs.hubs().size() == 1) {
      connection.send(AgentHubCodec.heartbeat(), null);
      return;
    }
    // One of several hubs: a hub that stops answering (paused, or cut off) is left for the one that leads now.
    long silence = Math.max(HUB_SILENCE_MIN_MS, 3 * interval);
    connection.request(AgentHubCodec.heartbeat(), null, silence, "heartbeat", f -> null).onFailure(err -> {
      if (err instanceof SpokeTimeoutException && !connection.isClosed()) {
        log.warn("The hub at {} did not answer a heartbeat within {} ms; trying the hubs of {}", connection.remoteAddress(), silence,
          hubs.describe());
        connection.close();
      }
    });
  }

  private void onHubClosed(Connection connection) {
    if (hub == connection) {
      hub = null;
    }
    if (heartbeatTimer >= 0) {
      vertx.cancelTimer(heartbeatTimer);
      heartbeatTimer = -1;
    }
    if (state.dismissal.future().isComplete()) {
      // The hub ended the cluster: its going is expected, and there is nothing to reconnect to.
      log.debug("The hub that dismissed this node closed its connection");
    } else if (!state.stopping) {
      log.warn("Lost the connection to the hub; actors keep running; reconnecting in {} ms", reconnectDelay);
      scheduleReconnect();
    }
  }

  private void scheduleReconnect() {
    if (reconnectTimer >= 0 || state.stopping) {
      return;
    }
    // Spread, so that the agents of a restarted hub do not all come back in the same millisecond.
    long delay = Jitter.spread(reconnectDelay);
    reconnectDelay = Math.min(hubs.hubs().size() > 1 ? MAX_RECONNECT_INTERVAL_HA : MAX_RECONNECT_INTERVAL, reconnectDelay * 2);
    reconnectTimer = vertx.setTimer(delay, t -> {
      reconnectTimer = -1;
      connectHub();
    });
  }

  /**
   * Tells the hub of an instance's change: restarting or running again (sent if connected: the next registration
   * reports how it is then), or its exit, which is kept until the hub acknowledges it.
   */
  void sendEvent(ActorInfo info) {
    if (info.state() == ActorState.EXITED) {
      exited(info.exitedAtMs() > 0 ? info : info.withExitedAt(System.currentTimeMillis()));
      return;
    }
    Connection connection = hub;
    if (connection == null || connection.isClosed()) {
      return;
    }
    connection.send(AgentHubCodec.actorEvent(info), null);
  }

  private void exited(ActorInfo exit) {
    if (unacked.size() >= MAX_UNACKED_EXITS) {
      ActorInfo dropped = unacked.removeFirst();
      if (droppedExits++ == 0) {
        log.warn("More than {} exits wait for the hub; the oldest ({}) and those after it are dropped, and counted", MAX_UNACKED_EXITS,
          dropped.id());
      }
    }
    unacked.addLast(exit);
    if (isConnected()) {
      sendExit(hub, exit);
    }
  }

  /**
   * Sends {@code exit} as a request: the hub's answer acknowledges it. Unanswered on a connection that stays open, it
   * goes again; on one that closes, with the next registration.
   */
  private void sendExit(Connection connection, ActorInfo exit) {
    connection.request(AgentHubCodec.actorEvent(exit), null, HUB_TIMEOUT, "exit of " + exit.id(), frame -> null).onComplete(ar -> {
      if (ar.succeeded()) {
        unacked.remove(exit);
      } else if (ar.cause() instanceof SpokeTimeoutException && !connection.isClosed()) {
        vertx.setTimer(EXIT_RESEND_MS, t -> {
          if (unacked.contains(exit) && connection == hub && isConnected()) {
            sendExit(connection, exit);
          }
        });
      } else if (!connection.isClosed() && !(ar.cause() instanceof UnavailableException)) {
        // The hub read it and refused it: sending it again would be refused again.
        log.warn("The hub refused the exit of {}: {}", exit.id(), ar.cause().getMessage());
        unacked.remove(exit);
      }
    });
  }

  /** Exits the hub has not acknowledged yet (for tests and metrics). */
  int unackedExits() {
    return unacked.size();
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
