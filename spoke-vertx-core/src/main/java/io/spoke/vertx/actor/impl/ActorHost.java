// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor.impl;

import io.spoke.vertx.SpawnException;
import io.spoke.vertx.SpokeException;
import io.spoke.vertx.actor.Actor;
import io.spoke.vertx.internal.net.ClientHello;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.ActorHostCodec;
import io.spoke.vertx.protocol.ActorHostCodec.ActorSpecValue;
import io.spoke.vertx.protocol.ErrorCodes;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.Message;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.spoke.vertx.protocol.fb.Role;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.SocketAddress;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The verticle that turns an actor host process into a running actor: it connects back to the agent that
 * started the process, asks what to run, constructs and deploys the actor, opens its call listener, and
 * reports ready; the agent's spawn completes only then. Afterwards it obeys the agent's shutdown request,
 * and exits if the agent goes away. A warm host (one of an agent's pool) connects, finds the actor types and
 * waits, printing nothing, until the agent sends it its actor's spec; from there on it is the same.
 */
public final class ActorHost extends VerticleBase {

  private static final Logger log = LogManager.getLogger(ActorHost.class);

  static final long AGENT_TIMEOUT_MS = 30_000;
  static final long STOP_TIMEOUT_MS = 30_000;
  /** How long a warm host waits for a spawn to take it; then it exits, and its pool starts another. */
  static final long WARM_WAIT_MS = java.util.concurrent.TimeUnit.DAYS.toMillis(30);

  private final ActorHostConfig config;
  private final ClusterAuth auth;
  // Held for the life of the host: Vert.x closes a NetClient's connections when the client is garbage-collected.
  private NetClient client;
  private Connection agent;
  /** The actor's id: a warm host's is its pool name until its spec comes. */
  private String actorId;
  /** A warm host's actor types, found while it waited; null otherwise. */
  private ActorTypes types;
  /** Whether the agent said which actor to run. */
  private boolean specified;
  private ActorRuntime runtime;
  private String actorDeployment;
  private boolean stopping;

  public ActorHost(ActorHostConfig config) {
    this.config = config;
    this.auth = ClusterAuth.of(config.token);
    this.actorId = config.actorId;
  }

  @Override
  public Future<?> start() {
    // The agent is on this machine, reached over loopback: its certificate is trusted, but need not name loopback.
    client = vertx.createNetClient(config.security.applyTo(new NetClientOptions())
      .setTcpNoDelay(true).setConnectTimeout((int) AGENT_TIMEOUT_MS));
    SocketAddress address = SocketAddress.inetSocketAddress(config.agentPort, config.agentHost);
    ClientHello hello = ClientHello.of(Role.ActorHost, config.actorId, auth).withMaxFrameSize(config.maxFrameSize)
      .withSecret(config.secret).withTimeout(AGENT_TIMEOUT_MS);
    Future<Connection> connected = Connection.connect(client, address, hello).map(connection -> {
      agent = connection;
      connection.closeHandler(c -> onAgentLost());
      connection.messageHandler(this::onAgentMessage);
      return connection;
    });
    if (config.warm) {
      // What an actor's start runs that needs no actor is done now: the class path scanned for actor types, and the
      // rest rehearsed. Then the bootstrap waits: the agent answers it when a spawn takes this host.
      ClassLoader loader = Thread.currentThread().getContextClassLoader();
      connected = connected.compose(c -> vertx.executeBlocking(() -> types = new ActorTypes(loader), false)
        .compose(t -> Rehearsal.run(vertx, client, auth, config).recover(err -> {
          log.debug("The warm host's rehearsal failed: {}", err.toString());
          return Future.succeededFuture();
        }))
        .map(c));
    }
    long wait = config.warm ? WARM_WAIT_MS : AGENT_TIMEOUT_MS;
    return connected
      .compose(connection -> connection.request(ActorHostCodec.bootstrap(), null, wait, "bootstrap", ActorHost::readSpec))
      .compose(this::run, failure -> reportFailure(failure).map((String) null));
  }

  /** Starts the actor {@code spec} describes, then tells the agent it is ready (or why it could not start). */
  private Future<String> run(ActorSpecValue spec) {
    specified = true;
    return startActor(spec)
      .compose(port -> {
        // A TLS cluster keeps every call on TLS: its clients expect a certificate, which a Unix socket would not show.
        String socketPath = config.warm ? spec.localSocket() : config.localSocket; // a warm host's rehearsed on its own
        Future<String> local = socketPath == null || config.security.isTls() ? Future.succeededFuture(null)
          : runtime.listenLocal(socketPath);
        return local.compose(socket -> agent.request(ActorHostCodec.ready(port, ProcessHandle.current().pid(), socket), null,
          AGENT_TIMEOUT_MS, "ready", frame -> "port " + port + (socket == null ? "" : " and Unix socket " + socket)));
      })
      .onSuccess(where -> log.info("Actor {} ({}) ready on {}, on Netty's {} transport{}", actorId, runtime.actorType(), where,
        vertx.isNativeTransportEnabled() ? "native (epoll)" : "NIO", config.warm ? ", in a warm host" : ""))
      .recover(failure -> reportFailure(failure).map((String) null));
  }

  private static ActorSpecValue readSpec(Frame frame) {
    if (frame.bodyType() != Body.ActorSpec) {
      throw new SpokeException("the agent answered bootstrap with message type " + frame.bodyType());
    }
    return ActorHostCodec.readActorSpec(frame);
  }

  private Future<Integer> startActor(ActorSpecValue spec) {
    if (config.warm) {
      actorId = spec.actorId();
    } else if (!config.actorId.equals(spec.actorId())) {
      return Future.failedFuture(new SpokeException("the agent sent the spec of actor '" + spec.actorId() + "' to the host of '"
        + config.actorId + "'"));
    }
    // Finding the class scans the class path (unless a warm host did), and a constructor may load a model: not on the event loop.
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    ActorTypes known = types;
    return vertx.executeBlocking(() -> construct(known != null ? known : new ActorTypes(loader), spec), false)
      .compose(actor -> {
        runtime = new ActorRuntime(vertx, spec.actorId(), spec.actorType(), spec.nodeId(), spec.args(), spec.gpuIds(), spec.slot(),
          config.maxFrameSize, spec.env());
        actor.bind(runtime);
        return vertx.deployVerticle(actor)
          .recover(err -> {
            log.error("Starting actor {} of type {} failed", spec.actorId(), spec.actorType(), err);
            return Future.failedFuture(new SpawnException("its start failed with " + err));
          });
      })
      .compose(id -> {
        actorDeployment = id;
        return runtime.listen(config.bindHost, 0, auth, config.security);
      });
  }

  private static Actor construct(ActorTypes types, ActorSpecValue spec) {
    try {
      return types.create(spec.actorType());
    } catch (ReflectiveOperationException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      log.error("Constructing actor {} of type {} failed", spec.actorId(), spec.actorType(), cause);
      throw new SpawnException("its constructor threw " + cause);
    }
  }

  private Future<Object> reportFailure(Throwable failure) {
    String message = failure.getMessage() == null ? failure.toString() : failure.getMessage();
    System.err.println("Actor " + actorId + " could not start: " + message);
    if (agent == null || agent.isClosed()) {
      ActorHostMain.exit(ActorHostMain.EXIT_START_FAILED);
      return Future.failedFuture(failure);
    }
    Message report = ActorHostCodec.startFailed(message, ErrorCodes.codeOf(failure));
    return agent.request(report, null, AGENT_TIMEOUT_MS, "start failure report", frame -> null)
      .eventually(() -> {
        ActorHostMain.exit(ActorHostMain.EXIT_START_FAILED);
        return Future.succeededFuture();
      })
      .transform(ar -> Future.failedFuture(failure));
  }

  private void onAgentMessage(Connection connection, Frame frame) {
    long id = frame.id();
    byte type = frame.bodyType();
    frame.release();
    if (type == Body.Shutdown) {
      shutdown(id);
    } else if (type == Body.Ping) {
      // Answered from the actor's own event loop: an actor whose loop is blocked does not answer its agent's liveness check.
      Runnable answer = () -> connection.context().runOnContext(v -> connection.reply(id, null));
      ActorRuntime actor = runtime;
      if (actor == null) {
        answer.run();
      } else {
        actor.runOnActorContext(answer);
      }
    } else if (type == Body.CallStatsRequest) {
      ActorRuntime actor = runtime;
      if (actor == null) {
        connection.reply(id, ActorHostCodec.callStats(new ActorHostCodec.CallStatsValue(java.util.List.of(), 0, new long[0])), null);
      } else {
        // Read where the calls are counted; encoded on the connection's loop.
        actor.runOnActorContext(() -> {
          ActorHostCodec.CallStatsValue stats = actor.callStats();
          connection.context().runOnContext(v -> connection.reply(id, ActorHostCodec.callStats(stats), null));
        });
      }
    } else {
      connection.replyError(id, ErrorCode.Protocol, "actor hosts do not handle message type " + type + " from their agent");
    }
  }

  private void shutdown(long requestId) {
    if (stopping) {
      return;
    }
    stopping = true;
    log.info("Stopping actor {}", actorId);
    Future<Void> undeployed = actorDeployment == null ? Future.succeededFuture() : vertx.undeploy(actorDeployment);
    long timer = vertx.setTimer(STOP_TIMEOUT_MS, t -> {
      log.warn("Actor {} did not stop within {} ms; exiting", actorId, STOP_TIMEOUT_MS);
      ActorHostMain.exit(ActorHostMain.EXIT_STOP_TIMEOUT);
    });
    undeployed
      .onFailure(err -> log.warn("Actor {} failed while stopping", actorId, err))
      .eventually(() -> runtime == null ? Future.succeededFuture() : runtime.close())
      .onComplete(ar -> {
        vertx.cancelTimer(timer);
        agent.reply(requestId, null);
        agent.close().onComplete(v -> ActorHostMain.exit(ActorHostMain.EXIT_OK));
      });
  }

  private void onAgentLost() {
    if (!stopping) {
      System.err.println((specified ? "Actor " + actorId : "Warm actor host " + actorId) + ": lost the connection to its agent; exiting");
      ActorHostMain.exit(ActorHostMain.EXIT_AGENT_LOST);
    }
  }
}
