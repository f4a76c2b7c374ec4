// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.actor.impl;

import io.spoke.vertx.actor.Actor;
import io.spoke.vertx.internal.net.ClientHello;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.serialization.Serializers;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.SocketAddress;
import java.util.List;
import java.util.Map;

/**
 * What a warm host does while it waits, once: the start of an actor of its own (deployed, listening on loopback and on a
 * Unix socket), a client's connection, hello and call to it, and its stop. The first time any of that runs in a JVM,
 * its classes load and initialize and its code runs interpreted, which is most of a fresh host's time from its spec to
 * ready; rehearsed, the real actor's start runs none of it for the first time. It prints nothing: the host's log
 * becomes its actor's.
 */
final class Rehearsal {

  private static final String ID = "spoke-rehearsal";
  private static final int ECHO = 1;

  /** The rehearsed actor: one method, which echoes. */
  static final class RehearsalActor extends Actor {
    @Override
    protected void registerMethods() {
      registerMethod(ECHO, request -> request.buffer().copy());
    }
  }

  private Rehearsal() {
  }

  /** Rehearses on {@code vertx}, its client connecting with {@code net}; completes when all is closed again, failed or not. */
  static Future<Void> run(Vertx vertx, NetClient net, ClusterAuth auth, ActorHostConfig config) {
    ActorRuntime runtime = new ActorRuntime(vertx, ID, "Rehearsal", null, Buffer.buffer(), List.of(), null, config.maxFrameSize,
      Map.of());
    RehearsalActor actor = new RehearsalActor();
    actor.bind(runtime);
    String socket = config.security.isTls() ? null : config.localSocket;
    return vertx.deployVerticle(actor).compose(deployment -> runtime.listen("127.0.0.1", 0, auth, config.security)
      .compose(port -> (socket == null ? Future.succeededFuture((String) null) : runtime.listenLocal(socket))
        .compose(local -> Connection.connect(net, SocketAddress.inetSocketAddress(port, "127.0.0.1"),
          ClientHello.of(Role.Client, ID, auth).withMaxFrameSize(config.maxFrameSize).withTimeout(ActorHost.AGENT_TIMEOUT_MS)
            .withTarget(ID))))
      .compose(connection -> connection.call(ECHO, Buffer.buffer(new byte[64]), Serializers.BUFFER, Serializers.BUFFER,
        ActorHost.AGENT_TIMEOUT_MS).eventually(connection::close))
      .eventually(() -> vertx.undeploy(deployment)))
      .eventually(runtime::close)
      .eventually(() -> socket == null ? Future.succeededFuture() : vertx.fileSystem().delete(socket).recover(err -> Future.succeededFuture()))
      .mapEmpty();
  }
}
