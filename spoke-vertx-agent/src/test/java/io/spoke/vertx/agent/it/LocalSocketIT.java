// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.agent.AgentVerticle;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.internal.LocalHost;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Same-host calls through an actor's Unix domain socket: real agent, actor processes and sockets. Which path a
 * connection took is read from the connection itself (the address it was opened to).
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class LocalSocketIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    cluster.start(vertx);
  }

  @Test
  void aClientOnTheActorsHostCallsThroughItsUnixSocket(Vertx vertx) throws Exception {
    AgentVerticle agent = cluster.startAgent(new AgentOptions().setGpus(0));
    SpokeClient client = cluster.client();
    ActorHandle actor = cluster.spawn(client, "Echo", "local-1");
    ActorInfo info = actor.info();
    assertThat(info.localSocket()).isNotNull();
    assertThat(info.hostId()).isEqualTo(LocalHost.id());
    Path socket = Paths.get(info.localSocket());
    assertThat(Files.readAttributes(socket, java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther())
      .as("a socket file at %s", socket).isTrue();
    // Only the agent's user can enter the directory, and so reach the socket.
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent(), LinkOption.NOFOLLOW_LINKS)))
      .isEqualTo("rwx------");
    // What the hub hands out to other clients says the same.
    assertThat(await(cluster.client().resolve("local-1")).localSocket()).isEqualTo(info.localSocket());

    SocketAddress address = await(client.actorAddress("local-1"));
    assertThat(address.isDomainSocket()).as("connected to %s", address).isTrue();
    assertThat(address.path()).isEqualTo(info.localSocket());
    assertThat(await(actor.call(TestActors.HELLO, "Unix", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, Unix!");
    Buffer large = TestActors.pattern(4 << 20);
    assertThat(await(actor.call(TestActors.ECHO, large))).isEqualTo(large);
    List<String> pushed = new CopyOnWriteArrayList<>();
    await(actor.subscribe(7, token -> pushed.add(token.toString())));
    assertThat(await(actor.call(TestActors.PUSH, 20, Serializers.INT, Serializers.INT))).isEqualTo(20);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (pushed.size() < 20 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(pushed).hasSize(20);

    // Garbage on the socket costs its sender the connection, and nobody else anything.
    Promise<Void> closed = Promise.promise();
    NetSocket raw = await(vertx.createNetClient().connect(SocketAddress.domainSocketAddress(info.localSocket())));
    raw.closeHandler(v -> closed.tryComplete());
    await(raw.write(Buffer.buffer(new byte[] {0, 0, 0, 12, 'n', 'o', 't', ' ', 'a', ' ', 'f', 'r', 'a', 'm', 'e', '!'})));
    closed.future().await(10, TimeUnit.SECONDS);
    assertThat(await(actor.call(TestActors.ADD, 1L, Serializers.LONG, Serializers.LONG))).isEqualTo(2L);

    // The socket file goes with the actor, and the directory with the agent.
    await(actor.stop());
    long gone = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (Files.exists(socket, LinkOption.NOFOLLOW_LINKS) && System.nanoTime() < gone) {
      Thread.sleep(20);
    }
    assertThat(socket).doesNotExist();
    cluster.stopAgent(agent);
    assertThat(socket.getParent()).doesNotExist();
  }

  @Test
  void theNextAgentRemovesTheSocketsOfAKilledOneAndNoOtherAgentsSockets() throws Exception {
    Process killed = cluster.startAgentProcess("killed", java.util.Map.of(), "--gpus", "0");
    Process running = cluster.startAgentProcess("running", java.util.Map.of(), "--gpus", "0");
    SpokeClient client = cluster.client();
    Path killedDir = Paths.get(cluster.spawn(client, "Echo", "on-killed", new io.spoke.vertx.client.SpawnOptions().setNode("killed"))
      .info().localSocket()).getParent();
    ActorHandle survivor = cluster.spawn(client, "Echo", "on-running", new io.spoke.vertx.client.SpawnOptions().setNode("running"));
    Path runningDir = Paths.get(survivor.info().localSocket()).getParent();

    killed.destroyForcibly();
    assertThat(killed.waitFor(30, TimeUnit.SECONDS)).isTrue();
    // A killed agent cannot clean up after itself.
    assertThat(killedDir).exists();

    cluster.startAgent(new AgentOptions().setGpus(0).setNodeId("next"));
    assertThat(killedDir).doesNotExist();
    // The other agent is alive and holds its lock: its directory, and its actor's socket, stay.
    assertThat(running.isAlive()).isTrue();
    assertThat(Paths.get(survivor.info().localSocket())).exists();
    assertThat(runningDir).exists();
    assertThat(await(cluster.client().actorAddress("on-running")).isDomainSocket()).isTrue();
  }

  @Test
  void aClientThatCannotReachTheSocketCallsOverTcp() throws Exception {
    cluster.startAgent(new AgentOptions().setGpus(0));
    SpokeClient owner = cluster.client();
    ActorHandle actor = cluster.spawn(owner, "Echo", "local-2");
    ActorInfo info = actor.info();
    // As for a client in another container on the same machine: the path names no file here.
    Files.delete(Paths.get(info.localSocket()));

    SpokeClient client = cluster.client();
    SocketAddress address = await(client.actorAddress("local-2"));
    assertThat(address.isDomainSocket()).as("connected to %s", address).isFalse();
    assertThat(address.port()).isEqualTo(info.port());
    assertThat(await(client.call("local-2", TestActors.HELLO, "TCP", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, TCP!");
  }

  @Test
  void aClientOrAnAgentCanKeepCallsOnTcp() throws Exception {
    cluster.startAgent(new AgentOptions().setGpus(0).setNodeId("sockets"));
    SpokeClient client = cluster.client(new SpokeClientOptions().setLocalSockets(false));
    ActorHandle actor = cluster.spawn(client, "Echo", "local-3");
    assertThat(actor.info().localSocket()).isNotNull();
    assertThat(await(client.actorAddress("local-3")).port()).isEqualTo(actor.info().port());
    assertThat(await(actor.call(TestActors.HELLO, "TCP", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, TCP!");

    cluster.startAgent(new AgentOptions().setGpus(0).setNodeId("tcp-only").setLocalSockets(false));
    SpokeClient other = cluster.client();
    ActorHandle tcpOnly = cluster.spawn(other, "Echo", "local-4", new io.spoke.vertx.client.SpawnOptions().setNode("tcp-only"));
    assertThat(tcpOnly.info().localSocket()).isNull();
    assertThat(await(other.actorAddress("local-4")).port()).isEqualTo(tcpOnly.info().port());
    assertThat(await(tcpOnly.call(TestActors.HELLO, "TCP", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, TCP!");
  }
}
