// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.client.impl;

import io.spoke.vertx.ActorDeadException;
import io.spoke.vertx.ActorNotFoundException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.internal.BoundedMap;
import io.spoke.vertx.internal.ExitStatus;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.HubClientCodec;
import io.spoke.vertx.protocol.Messages;
import io.spoke.vertx.protocol.Names;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.internal.ContextInternal;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The client's channels to actors, by actor id, and the actors it knows have exited (to explain failures of late
 * calls): resolving an actor through the hub, connecting to it on first use (again, fresh, when a cached endpoint
 * is stale), and what the hub's actor events change. Confined to the client's context.
 */
final class ActorChannels {

  private static final Logger log = LogManager.getLogger(ActorChannels.class);

  /** Exited actors remembered, to explain failures of late calls. */
  static final int DEATHS_KEPT = 1024;

  final ContextInternal context;
  /** How long a call may wait for its reply, or a stream for its next item. */
  final long callTimeout;
  private final long requestTimeout;
  private final HubSession hub;
  private final ActorConnector connector;
  private final BooleanSupplier closed;
  private final Map<String, ActorChannel> channels = new HashMap<>();
  private final Map<String, ActorInfo> deaths = new BoundedMap<>(DEATHS_KEPT);
  /** The managed processes this client launched, until they exit: what their exit() futures wait for. */
  private final Map<String, Promise<ActorInfo>> processExits = new HashMap<>();
  /** Calls waiting for a restarting actor's next instance, by actor id. */
  private final Map<String, List<Promise<ActorInfo>>> restarted = new HashMap<>();
  private Handler<ActorInfo> actorExitHandler;

  /** @param closed whether the client is closed (read on its context) */
  ActorChannels(ContextInternal context, long callTimeout, long requestTimeout, HubSession hub, ActorConnector connector,
                BooleanSupplier closed) {
    this.context = context;
    this.callTimeout = callTimeout;
    this.requestTimeout = requestTimeout;
    this.hub = hub;
    this.connector = connector;
    this.closed = closed;
  }

  synchronized void actorExitHandler(Handler<ActorInfo> handler) {
    this.actorExitHandler = handler;
  }

  private synchronized Handler<ActorInfo> actorExitHandler() {
    return actorExitHandler;
  }

  /** The channel to {@code actorId}, or {@code null} when the client has none. */
  ActorChannel get(String actorId) {
    return channels.get(actorId);
  }

  /** How actor {@code id} exited, when the client knows it has. */
  ActorInfo death(String id) {
    return deaths.get(id);
  }

  /** An actor was spawned or launched: it is alive, and where it runs is known. */
  void started(ActorInfo info) {
    deaths.remove(info.id());
    channel(info.id()).info = info;
  }

  /** A managed process was launched: its exit completes the future, with how it ended. */
  Future<ActorInfo> processExit(String processId) {
    ActorInfo dead = deaths.get(processId);
    if (dead != null) {
      return context.succeededFuture(dead);
    }
    return processExits.computeIfAbsent(processId, id -> context.promise()).future();
  }

  /** The client stopped {@code actorId}: its channel goes. */
  void stopped(String actorId) {
    ActorChannel channel = channels.remove(actorId);
    if (channel != null && channel.connection != null) {
      channel.connection.close();
    }
  }

  private ActorChannel channel(String actorId) {
    return channels.computeIfAbsent(actorId, id -> new ActorChannel(id, this));
  }

  /** Asks the hub where {@code actorId} runs; remembers it when it has exited. */
  Future<ActorInfo> resolve(String actorId) {
    return hub.request(HubClientCodec.resolve(actorId), null, requestTimeout, "resolve of actor '" + actorId + "'",
      frame -> Messages.readActorInfo(frame, "the hub")).onSuccess(info -> {
        if (info.state() == ActorState.EXITED) {
          deaths.put(info.id(), info);
        }
      });
  }

  /** The connection to an actor's host, resolving and connecting on first use. */
  Future<Connection> connection(String actorId) {
    if (closed.getAsBoolean()) {
      return Future.failedFuture(new IllegalStateException("client is closed"));
    }
    String error = Names.checkId("actor id", actorId);
    if (error != null) {
      return Future.failedFuture(new IllegalArgumentException(error));
    }
    ActorChannel channel = channel(actorId);
    if (channel.connection != null) {
      return Future.succeededFuture(channel.connection);
    }
    if (channel.connecting == null) {
      boolean cached = channel.info != null;
      Future<Connection> connecting = endpoint(channel).compose(info -> connect(channel, info));
      if (cached) {
        // The cached endpoint may be stale (the actor was stopped and spawned again elsewhere): retry once, fresh.
        connecting = connecting.recover(err -> {
          if (!(err instanceof UnavailableException) && !(err instanceof ActorNotFoundException)) {
            return Future.failedFuture(err);
          }
          channel.info = null;
          return endpoint(channel).compose(info -> connect(channel, info));
        });
      }
      channel.connecting = connecting.onComplete(ar -> channel.connecting = null);
    }
    return channel.connecting;
  }

  private Future<ActorInfo> endpoint(ActorChannel channel) {
    if (channel.info != null) {
      return Future.succeededFuture(channel.info);
    }
    ActorInfo dead = deaths.get(channel.actorId);
    Future<ActorInfo> resolved = resolve(channel.actorId);
    return resolved.compose(info -> {
      if (info.state() == ActorState.EXITED) {
        return Future.failedFuture(deadException(info));
      }
      if (info.state() == ActorState.RESTARTING || (info.state() == ActorState.STARTING && info.restarts() > 0)) {
        return awaitRestart(info).map(next -> {
          channel.info = next;
          return next;
        });
      }
      if (info.state() != ActorState.RUNNING || info.port() <= 0) {
        return Future.failedFuture(new UnavailableException("actor '" + info.id() + "' is " + info.state().name().toLowerCase()
          + ", not running"));
      }
      channel.info = info;
      return Future.succeededFuture(info);
    }, err -> dead != null && err instanceof ActorNotFoundException ? Future.failedFuture(deadException(dead)) : Future.failedFuture(err));
  }

  private Future<Connection> connect(ActorChannel channel, ActorInfo info) {
    return connector.connect(info)
      .map(connection -> {
        if (closed.getAsBoolean()) {
          connection.close();
          throw new IllegalStateException("client is closed");
        }
        channel.connection = connection;
        channel.listen(connection);
        return connection;
      });
  }

  /** The hub says how an actor is: a new endpoint is kept; an exit fails what waits on the actor and drops its channel. */
  void onActorEvent(ActorInfo info) {
    ActorChannel channel = channels.get(info.id());
    if (info.state() == ActorState.RESTARTING) {
      // What is in flight went down with the instance that died; the channel stays, for the next instance.
      if (channel != null) {
        channel.onDeath(restartingException(info));
      }
      return;
    }
    if (info.state() != ActorState.EXITED) {
      if (channel != null && info.state() == ActorState.RUNNING) {
        channel.info = info;
      }
      if (info.state() == ActorState.RUNNING) {
        List<Promise<ActorInfo>> waiting = restarted.remove(info.id());
        if (waiting != null) {
          waiting.forEach(p -> p.tryComplete(info));
        }
      }
      return;
    }
    List<Promise<ActorInfo>> waiting = restarted.remove(info.id());
    if (waiting != null) {
      waiting.forEach(p -> p.tryFail(deadException(info)));
    }
    deaths.put(info.id(), info);
    Promise<ActorInfo> exit = processExits.remove(info.id());
    if (exit != null) {
      exit.tryComplete(info);
    }
    Handler<ActorInfo> handler = actorExitHandler();
    if (handler != null) {
      try {
        handler.handle(info);
      } catch (RuntimeException e) {
        log.error("Actor exit handler failed", e);
      }
    }
    if (channel == null) {
      return;
    }
    channel.onDeath(deadException(info));
    channels.remove(info.id());
  }

  /** Waits, up to the call timeout, for the next instance of a restarting actor to run. */
  private Future<ActorInfo> awaitRestart(ActorInfo info) {
    Promise<ActorInfo> next = context.promise();
    restarted.computeIfAbsent(info.id(), id -> new ArrayList<>()).add(next);
    long timer = context.setTimer(callTimeout, t -> next.tryFail(new UnavailableException("actor '" + info.id()
      + "' is restarting and did not run again within " + callTimeout + " ms")));
    return next.future().onComplete(ar -> {
      context.owner().cancelTimer(timer);
      List<Promise<ActorInfo>> waiting = restarted.get(info.id());
      if (waiting != null) {
        waiting.remove(next);
      }
    });
  }

  static ActorDeadException restartingException(ActorInfo info) {
    String reason = info.reason() != null ? info.reason() : ExitStatus.describe(info.exitCode());
    return new ActorDeadException(info.id(), info.exitCode(), info.logFile(), "actor '" + info.id() + "' died (" + reason
      + ") with this call in flight and is restarting (restart " + (info.restarts() + 1) + "); later calls reach its next instance");
  }

  static ActorDeadException deadException(ActorInfo info) {
    String reason = info.reason() != null ? info.reason() : ExitStatus.describe(info.exitCode());
    return new ActorDeadException(info.id(), info.exitCode(), info.logFile(), "actor '" + info.id() + "' is dead: " + reason
      + (info.logFile() != null ? "; its log: " + info.logFile() + (info.nodeId() != null ? " on node " + info.nodeId() : "") : ""));
  }

  /** The client closes: every channel's connections close. */
  void close() {
    for (List<Promise<ActorInfo>> waiting : new ArrayList<>(restarted.values())) {
      waiting.forEach(p -> p.tryFail(new UnavailableException("the client closed")));
    }
    restarted.clear();
    for (Promise<ActorInfo> exit : new ArrayList<>(processExits.values())) {
      exit.tryFail(new UnavailableException("the client closed before the process exited"));
    }
    processExits.clear();
    for (ActorChannel channel : new ArrayList<>(channels.values())) {
      channel.close();
    }
    channels.clear();
  }
}
