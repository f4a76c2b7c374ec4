// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub.impl;

import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.internal.net.ClientHello;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.SocketAddress;
import io.vertx.junit5.VertxExtension;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A hub server that stops serves nothing more, even a peer whose handshake began before the stop: what a leader of
 * several hubs (whose listener outlives its server, as {@link HaHub} hands it each socket) does when it is resumed from
 * a pause past its lease with connections waiting in its queue. Found by the three-hub chaos soak: agents whose
 * handshake straddled the stop registered with the deposed hub and stayed there 30 s, away from the leader.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class StoppedHubServerIT {

  private Context context;

  private <T> T on(Supplier<Future<T>> action) throws Exception {
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(promise));
    return promise.future().await(20, TimeUnit.SECONDS);
  }

  private Throwable failureOn(Supplier<Future<?>> action) throws Exception {
    Promise<Throwable> failure = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(ar -> failure.complete(ar.succeeded() ? null : ar.cause())));
    return failure.future().await(20, TimeUnit.SECONDS);
  }

  @Test
  void aHandshakeBegunBeforeTheStopIsRefusedAndAConnectionAfterItIsClosed(Vertx vertx) throws Exception {
    context = vertx.getOrCreateContext();
    HubServer hub = on(() -> {
      HubServer server = new HubServer(vertx, new HubOptions().setPort(0).setHttpPort(-1));
      return server.start().map(server);
    });
    // A listener of the test's own hands each socket to the hub server, as HaHub's does; the first socket is handed over
    // and the server stopped at once, before the peer's hello is read.
    boolean[] first = {true};
    NetServer front = on(() -> vertx.createNetServer().connectHandler(socket -> {
      hub.accept(socket);
      if (first[0]) {
        first[0] = false;
        hub.stop();
      }
    }).listen(0, "127.0.0.1"));
    SocketAddress address = SocketAddress.inetSocketAddress(front.actualPort(), "127.0.0.1");
    var net = vertx.createNetClient();

    Throwable straddling = failureOn(() -> Connection.connect(net, address, ClientHello.of(Role.Agent, "late-agent", ClusterAuth.NONE)
      .withMaxFrameSize(1 << 20).withTimeout(5_000)));
    assertThat(straddling).as("a handshake begun before the stop").isInstanceOf(UnavailableException.class)
      .hasMessageContaining("stopping");
    Throwable after = failureOn(() -> Connection.connect(net, address, ClientHello.of(Role.Client, "later", ClusterAuth.NONE)
      .withMaxFrameSize(1 << 20).withTimeout(5_000)));
    assertThat(after).as("a connection after the stop").isNotNull();
    assertThat(hub.aliveNodes()).isZero();
    on(() -> front.close());
  }
}
