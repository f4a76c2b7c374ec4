package io.spoke.vertx.actor.impl;

import com.google.flatbuffers.FlatBufferBuilder;
import io.spoke.vertx.SpawnException;
import io.spoke.vertx.SpokeException;
import io.spoke.vertx.actor.Actor;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.internal.net.ClientHello;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.ErrorCodes;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.Messages;
import io.spoke.vertx.protocol.fb.ActorSpec;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Bootstrap;
import io.spoke.vertx.protocol.fb.Ready;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.protocol.fb.StartFailed;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.SocketAddress;
import java.util.ArrayList;
import java.util.List;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * The verticle that turns an actor host process into a running actor: it connects back to the agent that
 * started the process, asks what to run, constructs and deploys the actor, opens its call listener, and
 * reports ready; the agent's spawn completes only then. Afterwards it obeys the agent's shutdown request,
 * and exits if the agent goes away.
 */
public final class ActorHost extends VerticleBase {

  private static final Logger log = LogManager.getLogger(ActorHost.class);

  static final long AGENT_TIMEOUT_MS = 30_000;
  static final long STOP_TIMEOUT_MS = 30_000;

  private final ActorHostConfig config;
  private final ClusterAuth auth;
  // Held for the life of the host: Vert.x closes a NetClient's connections when the client is garbage-collected.
  private NetClient client;
  private Connection agent;
  private ActorRuntime runtime;
  private String actorDeployment;
  private boolean stopping;

  public ActorHost(ActorHostConfig config) {
    this.config = config;
    this.auth = ClusterAuth.of(config.token);
  }

  @Override
  public Future<?> start() {
    // The agent is on this machine, reached over loopback: its certificate is trusted, but need not name loopback.
    client = vertx.createNetClient(config.security.applyTo(new NetClientOptions())
      .setTcpNoDelay(true).setConnectTimeout((int) AGENT_TIMEOUT_MS));
    SocketAddress address = SocketAddress.inetSocketAddress(config.agentPort, config.agentHost);
    ClientHello hello = ClientHello.of(Role.ActorHost, config.actorId, auth).withMaxFrameSize(config.maxFrameSize)
      .withSecret(config.secret).withTimeout(AGENT_TIMEOUT_MS);
    return Connection.connect(client, address, hello)
      .compose(connection -> {
        agent = connection;
        connection.closeHandler(c -> onAgentLost());
        connection.messageHandler(this::onAgentMessage);
        FlatBufferBuilder b = connection.builder();
        Bootstrap.startBootstrap(b);
        int body = Bootstrap.endBootstrap(b);
        return connection.request(Body.Bootstrap, body, null, AGENT_TIMEOUT_MS, "bootstrap", ActorHost::readSpec);
      })
      .compose(this::startActor)
      .compose(port -> {
        // A TLS cluster keeps every call on TLS: its clients expect a certificate, which a Unix socket would not show.
        Future<String> local = config.localSocket == null || config.security.isTls() ? Future.succeededFuture(null)
          : runtime.listenLocal(config.localSocket);
        return local.compose(socket -> {
          FlatBufferBuilder b = agent.builder();
          int socketOffset = socket == null ? 0 : b.createString(socket);
          int body = Ready.createReady(b, port, ProcessHandle.current().pid(), socketOffset);
          return agent.request(Body.Ready, body, null, AGENT_TIMEOUT_MS, "ready",
            frame -> "port " + port + (socket == null ? "" : " and Unix socket " + socket));
        });
      })
      .onSuccess(where -> log.info("Actor {} ({}) ready on {}, on Netty's {} transport", config.actorId, runtime.actorType(), where,
        vertx.isNativeTransportEnabled() ? "native (epoll)" : "NIO"))
      .recover(failure -> reportFailure(failure).map((String) null));
  }

  private static Spec readSpec(Frame frame) {
    if (frame.bodyType() != Body.ActorSpec) {
      throw new SpokeException("the agent answered bootstrap with message type " + frame.bodyType());
    }
    ActorSpec spec = (ActorSpec) frame.header().body(new ActorSpec());
    List<Integer> gpus = new ArrayList<>(spec.gpuIdsLength());
    for (int i = 0; i < spec.gpuIdsLength(); i++) {
      gpus.add(spec.gpuIds(i));
    }
    Slot slot = spec.slot() == null ? null : Messages.readSlot(spec.slot());
    return new Spec(spec.actorType(), spec.actorId(), spec.nodeId(), gpus, slot, frame.copyPayload());
  }

  private Future<Integer> startActor(Spec spec) {
    if (!config.actorId.equals(spec.actorId)) {
      return Future.failedFuture(new SpokeException("the agent sent the spec of actor '" + spec.actorId + "' to the host of '"
        + config.actorId + "'"));
    }
    // Finding the class scans the class path, and a constructor may load a model: not on the event loop.
    ClassLoader loader = Thread.currentThread().getContextClassLoader();
    return vertx.executeBlocking(() -> construct(loader, spec), false)
      .compose(actor -> {
        runtime = new ActorRuntime(vertx, spec.actorId, spec.actorType, spec.nodeId, spec.args, spec.gpuIds, spec.slot,
          config.maxFrameSize);
        actor.bind(runtime);
        return vertx.deployVerticle(actor)
          .recover(err -> {
            log.error("Starting actor {} of type {} failed", spec.actorId, spec.actorType, err);
            return Future.failedFuture(new SpawnException("its start failed with " + err));
          });
      })
      .compose(id -> {
        actorDeployment = id;
        return runtime.listen(config.bindHost, 0, auth, config.security);
      });
  }

  private static Actor construct(ClassLoader loader, Spec spec) {
    try {
      return new ActorTypes(loader).create(spec.actorType);
    } catch (ReflectiveOperationException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      log.error("Constructing actor {} of type {} failed", spec.actorId, spec.actorType, cause);
      throw new SpawnException("its constructor threw " + cause);
    }
  }

  private Future<Object> reportFailure(Throwable failure) {
    String message = failure.getMessage() == null ? failure.toString() : failure.getMessage();
    System.err.println("Actor " + config.actorId + " could not start: " + message);
    if (agent == null || agent.isClosed()) {
      ActorHostMain.exit(ActorHostMain.EXIT_START_FAILED);
      return Future.failedFuture(failure);
    }
    FlatBufferBuilder b = agent.builder();
    int body = StartFailed.createStartFailed(b, b.createString(message), ErrorCodes.codeOf(failure));
    return agent.request(Body.StartFailed, body, null, AGENT_TIMEOUT_MS, "start failure report", frame -> null)
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
    } else {
      connection.replyError(id, io.spoke.vertx.protocol.fb.ErrorCode.Protocol, "actor hosts do not handle message type " + type
        + " from their agent", null, Body.NONE, 0);
    }
  }

  private void shutdown(long requestId) {
    if (stopping) {
      return;
    }
    stopping = true;
    log.info("Stopping actor {}", config.actorId);
    Future<Void> undeployed = actorDeployment == null ? Future.succeededFuture() : vertx.undeploy(actorDeployment);
    long timer = vertx.setTimer(STOP_TIMEOUT_MS, t -> {
      log.warn("Actor {} did not stop within {} ms; exiting", config.actorId, STOP_TIMEOUT_MS);
      ActorHostMain.exit(ActorHostMain.EXIT_STOP_TIMEOUT);
    });
    undeployed
      .onFailure(err -> log.warn("Actor {} failed while stopping", config.actorId, err))
      .eventually(() -> runtime == null ? Future.succeededFuture() : runtime.close())
      .onComplete(ar -> {
        vertx.cancelTimer(timer);
        agent.reply(requestId, Body.NONE, 0, null);
        agent.close().onComplete(v -> ActorHostMain.exit(ActorHostMain.EXIT_OK));
      });
  }

  private void onAgentLost() {
    if (!stopping) {
      System.err.println("Actor " + config.actorId + ": lost the connection to its agent; exiting");
      ActorHostMain.exit(ActorHostMain.EXIT_AGENT_LOST);
    }
  }

  private static final class Spec {

    final String actorType;
    final String actorId;
    final String nodeId;
    final List<Integer> gpuIds;
    final Slot slot;
    final Buffer args;

    Spec(String actorType, String actorId, String nodeId, List<Integer> gpuIds, Slot slot, Buffer args) {
      this.actorType = actorType;
      this.actorId = actorId;
      this.nodeId = nodeId;
      this.gpuIds = gpuIds;
      this.slot = slot;
      this.args = args;
    }
  }
}
