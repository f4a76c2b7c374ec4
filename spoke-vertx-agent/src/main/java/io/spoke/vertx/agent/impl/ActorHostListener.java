// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.impl;

import io.spoke.vertx.ProtocolException;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.internal.net.MessageHandler;
import io.spoke.vertx.protocol.ActorHostCodec;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.Message;
import io.spoke.vertx.protocol.PeerHello;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.ErrorCode;
import io.spoke.vertx.protocol.fb.Role;
import io.vertx.core.Future;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;

/**
 * Where the actor hosts this agent started connect back: each proves the one-time secret of its process, asks for
 * its actor's spec (type, arguments, GPUs, gang rank), then says it is ready or could not start the actor. A warm
 * host ({@link WarmPool}) asks too, and is answered when a spawn takes it. Nothing else may connect. Runs on the
 * agent's event loop.
 */
final class ActorHostListener {

  private final AgentState state;
  private final ActorSupervisor supervisor;
  private NetServer server;

  ActorHostListener(AgentState state, ActorSupervisor supervisor) {
    this.state = state;
    this.supervisor = supervisor;
  }

  /** Listens with {@code serverOptions} (host and port set here from the agent's options); completes with the server. */
  Future<NetServer> listen(NetServerOptions serverOptions, ClusterAuth auth) {
    server = state.vertx.createNetServer(serverOptions.setHost(state.options.getHost()).setPort(state.options.getPort())
      .setTcpNoDelay(true));
    server.connectHandler(socket -> Connection.accept(socket, state.options.getMaxFrameSize(), "agent", auth,
      this::accept));
    return server.listen();
  }

  int actualPort() {
    return server.actualPort();
  }

  Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  private Future<MessageHandler> accept(Connection connection, PeerHello hello) {
    if (hello.role() != Role.ActorHost) {
      return Future.failedFuture(new ProtocolException("agents accept connections from their actor processes only; clients talk to"
        + " the hub"));
    }
    WarmPool.Host warm = state.pool.connecting(hello.name(), hello.secret(), connection);
    if (warm != null) {
      connection.closeHandler(c -> {
        if (warm.proc != null && warm.proc.host == c) {
          warm.proc.host = null;
        }
      });
      return Future.succeededFuture((c, frame) -> {
        if (warm.proc != null) {
          onMessage(warm.proc, c, frame);
        } else {
          try {
            state.pool.onIdleMessage(warm, c, frame);
          } finally {
            frame.release();
          }
        }
      });
    }
    ActorProcess proc = hello.name() == null ? null : state.actors.get(hello.name());
    // A managed process has no secret and never connects back: nothing may speak for it.
    if (proc == null || proc.spec != null || !Secrets.matches(proc.secret, hello.secret()) || proc.host != null) {
      return Future.failedFuture(new ProtocolException("no actor process of this agent is waiting for this connection"));
    }
    proc.host = connection;
    connection.closeHandler(c -> {
      if (proc.host == c) {
        proc.host = null;
      }
    });
    return Future.succeededFuture((c, frame) -> onMessage(proc, c, frame));
  }

  /** The answer to the bootstrap of {@code proc}'s host (a cold one's, or the warm one it took). */
  static Message spec(AgentState state, ActorProcess proc) {
    return ActorHostCodec.actorSpec(proc.actorType, proc.actorId, state.nodeId, proc.gpuIds, state.options.getMaxFrameSize(), proc.slot,
      proc.localSocket, proc.actorEnv);
  }

  private void onMessage(ActorProcess proc, Connection connection, Frame frame) {
    long id = frame.id();
    try {
      switch (frame.bodyType()) {
        case Body.Bootstrap:
          // Its JVM is up: the next cold start may begin beside its constructor.
          state.coldStarts.leave(proc);
          connection.reply(id, spec(state, proc), proc.args);
          break;
        case Body.Ready:
          ActorHostCodec.HostReady ready = ActorHostCodec.readReady(frame);
          connection.reply(id, null);
          supervisor.ready(proc, ready.port(), ready.localSocket());
          break;
        case Body.StartFailed:
          proc.startFailure = ActorHostCodec.readStartFailed(frame, proc.actorId);
          connection.reply(id, null);
          break;
        default:
          connection.replyError(id, ErrorCode.Protocol, "agents do not handle message type " + frame.bodyType() + " from actors");
      }
    } finally {
      frame.release();
    }
  }
}
