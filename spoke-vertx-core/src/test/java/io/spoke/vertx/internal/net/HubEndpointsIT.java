// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.internal.net;

import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.NotLeaderException;
import io.spoke.vertx.UnavailableException;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.junit5.VertxExtension;
import java.net.ServerSocket;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Several hubs over real sockets: a leader that welcomes, standbys whose refusals name a leader (or none), a hub that
 * is gone, and one whose kernel accepts connections that nothing answers (a paused process).
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class HubEndpointsIT {

  private static <T> T on(Context context, Supplier<Future<T>> action) throws Exception {
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(promise));
    return promise.future().await(30, TimeUnit.SECONDS);
  }

  private static Throwable failureOn(Context context, Supplier<Future<?>> action) throws Exception {
    Promise<Throwable> promise = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(ar -> promise.complete(ar.succeeded() ? null : ar.cause())));
    return promise.future().await(30, TimeUnit.SECONDS);
  }

  /** A hub that welcomes every peer. */
  private static int leader(Vertx vertx) throws Exception {
    NetServer server = vertx.createNetServer();
    server.connectHandler(so -> Connection.accept(so, 1 << 20, "leader", ClusterAuth.NONE,
      (connection, hello) -> Future.succeededFuture((c, frame) -> frame.release())));
    return server.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS).actualPort();
  }

  /** A standby that says {@code leader} leads (null: none). */
  private static int standby(Vertx vertx, String leader) throws Exception {
    NetServer server = vertx.createNetServer();
    server.connectHandler(so -> Connection.accept(so, 1 << 20, "standby", ClusterAuth.NONE,
      (connection, hello) -> Future.failedFuture(new NotLeaderException("a standby", leader))));
    return server.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS).actualPort();
  }

  private static int deadPort() throws Exception {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static ClientHello hello() {
    return ClientHello.of(Role.Client, "test", ClusterAuth.NONE).withTimeout(30_000);
  }

  @Test
  void aStandbyListedFirstSendsThePeerToTheLeaderWhichIsTriedFirstNextTime(Vertx vertx) throws Exception {
    Context context = vertx.getOrCreateContext();
    NetClient client = vertx.createNetClient();
    int leader = leader(vertx);
    int standby = standby(vertx, "127.0.0.1:" + leader);
    HubEndpoints hubs = new HubEndpoints(List.of("127.0.0.1:" + standby, "127.0.0.1:" + deadPort()));
    Connection connection = on(context, () -> hubs.connect(client, hello()));
    assertThat(connection.remoteAddress().port()).isEqualTo(leader);
    assertThat(hubs.current().port()).isEqualTo(leader);
    on(context, () -> hubs.connect(client, hello()));
  }

  @Test
  void aStandbyNamingAGoneLeaderAlreadyTriedEndsInTheRefusalsOfEveryHubNotInAnOutOfRangeError(Vertx vertx) throws Exception {
    Context context = vertx.getOrCreateContext();
    NetClient client = vertx.createNetClient();
    int gone = deadPort();
    int standby = standby(vertx, "127.0.0.1:" + gone);
    // The gone leader listed first (tried, refused), then the standby whose hint is that same gone leader.
    HubEndpoints hubs = new HubEndpoints(List.of("127.0.0.1:" + gone, "127.0.0.1:" + standby));
    Throwable failure = failureOn(context, () -> hubs.connect(client, hello()));
    assertThat(failure).isInstanceOf(NotLeaderException.class).hasMessageContaining("no hub of 2").hasMessageContaining("a standby");
    assertThat(((NotLeaderException) failure).leader()).isNull();
  }

  @Test
  void hubsThatAreAllGoneFailAsUnavailableNamingEach(Vertx vertx) throws Exception {
    Context context = vertx.getOrCreateContext();
    NetClient client = vertx.createNetClient();
    HubEndpoints hubs = new HubEndpoints(List.of("127.0.0.1:" + deadPort(), "127.0.0.1:" + deadPort()));
    Throwable failure = failureOn(context, () -> hubs.connect(client, hello()));
    assertThat(failure).isInstanceOf(UnavailableException.class).hasMessageContaining("none could be reached");
  }

  @Test
  void aHubThatAcceptsButNeverAnswersIsLeftAfterItsAttemptTimeAndTriedLastNextTime(Vertx vertx) throws Exception {
    Context context = vertx.getOrCreateContext();
    NetClient client = vertx.createNetClient();
    int leader = leader(vertx);
    // Its backlog takes the connection; nothing reads it: a paused hub.
    try (ServerSocket silent = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
      HubEndpoints hubs = new HubEndpoints(List.of("127.0.0.1:" + silent.getLocalPort(), "127.0.0.1:" + leader));
      long start = System.nanoTime();
      Connection connection = on(context, () -> hubs.connect(client, hello()));
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertThat(connection.remoteAddress().port()).isEqualTo(leader);
      assertThat(tookMs).as("the silent hub's attempt ends at its own deadline, not the hello's 30 s")
        .isBetween(HubEndpoints.ATTEMPT_TIMEOUT_MS - 100, HubEndpoints.ATTEMPT_TIMEOUT_MS + 10_000);
      assertThat(hubs.hubs().get(0).port()).as("the silent hub is tried last from now on").isEqualTo(leader);
    }
  }
}
