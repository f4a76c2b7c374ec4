// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spoke.vertx.ActorNotFoundException;
import io.spoke.vertx.SpokeException;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.internal.net.ClientHello;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.HubClientCodec;
import io.spoke.vertx.protocol.Messages;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.SocketAddress;
import io.vertx.junit5.VertxExtension;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A bug in one of the hub's handlers (injected: the handler of status requests throws, as a bug would) fails the
 * requests it handles with an internal error and a line in the hub's log, and costs nobody their connection: the
 * same connection's next requests, and every other client's, are served.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class HandlerBugIT {

  private Context context;

  private <T> T on(Supplier<Future<T>> action) throws Exception {
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(promise));
    return promise.future().await(20, TimeUnit.SECONDS);
  }

  private Connection connect(NetClient net, int port, String name) throws Exception {
    return on(() -> Connection.connect(net, SocketAddress.inetSocketAddress(port, "127.0.0.1"),
      ClientHello.of(Role.Client, name, ClusterAuth.NONE).withMaxFrameSize(1 << 20).withTimeout(5_000)));
  }

  private String status(Connection connection) throws Exception {
    return on(() -> connection.request(HubClientCodec.status(), null, 5_000, "status", frame -> "answered " + frame.bodyType()));
  }

  @Test
  void aBugInAHandlerFailsItsRequestsAndEveryConnectionCarriesOn(Vertx vertx) throws Exception {
    context = vertx.getOrCreateContext();
    HubServer hub = on(() -> {
      HubServer server = new HubServer(vertx, new HubOptions().setPort(0).setHttpPort(-1));
      return server.start().map(server);
    });
    NetClient net = vertx.createNetClient();
    Connection first = connect(net, hub.actualPort(), "first");
    Connection second = connect(net, hub.actualPort(), "second");
    assertThat(status(first)).isEqualTo("answered " + Body.FbClusterStatus);

    on(() -> {
      hub.state().faults.failWhen(type -> type == Body.Status);
      return Future.succeededFuture();
    });
    assertThatThrownBy(() -> status(first)).isInstanceOf(SpokeException.class)
      .hasMessageContaining("internal error in the hub while handling request type " + Body.Status);
    assertThat(first.isClosed()).as("the connection of the request that met the bug").isFalse();
    // The same connection goes on being served, as does everyone else (whose status meets the same bug).
    assertThatThrownBy(() -> on(() -> first.request(HubClientCodec.resolve("nobody"), null, 5_000, "resolve",
      frame -> Messages.readActorInfo(frame, "the hub")))).isInstanceOf(ActorNotFoundException.class);
    assertThatThrownBy(() -> status(second)).isInstanceOf(SpokeException.class).hasMessageContaining("internal error");
    assertThat(second.isClosed()).isFalse();

    on(() -> {
      hub.state().faults.failWhen(null);
      return Future.succeededFuture();
    });
    assertThat(status(first)).isEqualTo("answered " + Body.FbClusterStatus);
    assertThat(status(second)).isEqualTo("answered " + Body.FbClusterStatus);
    on(hub::stop);
  }
}
