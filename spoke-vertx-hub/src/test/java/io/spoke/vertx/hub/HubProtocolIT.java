// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.Unpooled;
import io.spoke.vertx.ActorNotFoundException;
import io.spoke.vertx.DuplicateActorException;
import io.spoke.vertx.InvalidRequestException;
import io.spoke.vertx.NodeUnavailableException;
import io.spoke.vertx.SchedulingException;
import io.spoke.vertx.SpawnException;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.ClusterStatus;
import io.spoke.vertx.client.GpuInfo;
import io.spoke.vertx.client.NodeInfo;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.SpokeClientOptions;
import io.spoke.vertx.internal.net.ClientHello;
import io.spoke.vertx.internal.net.ClusterAuth;
import io.spoke.vertx.internal.net.Connection;
import io.spoke.vertx.protocol.Frame;
import io.spoke.vertx.protocol.Message;
import io.spoke.vertx.protocol.Messages;
import io.spoke.vertx.protocol.fb.ActorEvent;
import io.spoke.vertx.protocol.fb.Body;
import io.spoke.vertx.protocol.fb.Heartbeat;
import io.spoke.vertx.protocol.fb.PortReserved;
import io.spoke.vertx.protocol.fb.RegisterNode;
import io.spoke.vertx.protocol.fb.ReleasePort;
import io.spoke.vertx.protocol.fb.Role;
import io.spoke.vertx.protocol.fb.Spawn;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.SocketAddress;
import io.vertx.junit5.VertxExtension;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The hub over real sockets, with a real client, and test agents that speak the agent protocol so that each
 * answer (and each failure) of an agent can be chosen.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class HubProtocolIT {

  private Vertx vertx;
  private Context context;
  private HubVerticle hub;
  private SpokeClient client;
  private NetClient netClient;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    hub = new HubVerticle(new HubOptions().setPort(0).setHeartbeatInterval(50).setNodeTimeout(400));
    vertx.deployVerticle(hub).await(10, TimeUnit.SECONDS);
    client = SpokeClient.create(vertx, new SpokeClientOptions().setHubPort(hub.actualPort()).setSpawnTimeout(5_000));
    netClient = vertx.createNetClient();
  }

  @AfterEach
  void stop() throws Exception {
    client.close().await(10, TimeUnit.SECONDS);
  }

  /** Runs on the one context of this test's connections: they are confined to their event loop. */
  private <T> T onContext(Supplier<Future<T>> action) throws Exception {
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> action.get().onComplete(promise));
    return promise.future().await(20, TimeUnit.SECONDS);
  }

  /** An agent played by the test: registers, then queues the hub's requests for the test to answer. */
  final class TestAgent {

    final Connection connection;
    final BlockingQueue<Frame> requests = new LinkedBlockingQueue<>();
    final List<String> releasedPorts = new java.util.concurrent.CopyOnWriteArrayList<>();
    int nextPort = 29500;

    TestAgent(Connection connection) {
      this.connection = connection;
      connection.messageHandler((c, frame) -> {
        if (frame.bodyType() == Body.ReservePort) {
          int port = nextPort++;
          c.reply(frame.id(), Message.of(Body.PortReserved, b -> PortReserved.createPortReserved(b, port)), null);
          frame.release();
        } else if (frame.bodyType() == Body.ReleasePort) {
          releasedPorts.add(((ReleasePort) frame.header().body(new ReleasePort())).ticket());
          frame.release();
        } else {
          requests.add(frame);
        }
      });
    }

    void register(String nodeId, int gpus) throws Exception {
      List<GpuInfo> gpuList = new ArrayList<>();
      for (int i = 0; i < gpus; i++) {
        gpuList.add(new GpuInfo(i, "GPU-" + i, "Test GPU", 1024));
      }
      onContext(() -> {
        Message register = Message.of(Body.RegisterNode, b -> {
          int id = b.createString(nodeId);
          int host = b.createString("127.0.0.1");
          int capacity = Messages.writeCapacity(b, gpuList, 8, 4096, java.util.Map.of());
          int actors = RegisterNode.createActorsVector(b, new int[0]);
          return RegisterNode.createRegisterNode(b, id, host, 1234, capacity, actors, 0, 0, 0);
        });
        return connection.request(register, null, 5_000, "register", f -> null);
      });
    }

    void heartbeat() throws Exception {
      onContext(() -> {
        connection.send(Message.of(Body.Heartbeat, b -> {
          Heartbeat.startHeartbeat(b);
          return Heartbeat.endHeartbeat(b);
        }), null);
        return Future.succeededFuture();
      });
    }

    Frame nextRequest() throws InterruptedException {
      Frame frame = requests.poll(10, TimeUnit.SECONDS);
      assertThat(frame).as("a request from the hub").isNotNull();
      return frame;
    }

    void replyActorInfo(Frame request, ActorInfo info) throws Exception {
      onContext(() -> {
        connection.reply(request.id(), Message.of(Body.FbActorInfo, b -> Messages.writeActorInfo(b, info)), null);
        request.release();
        return Future.succeededFuture();
      });
    }

    void replyFailure(Frame request, RuntimeException failure) throws Exception {
      onContext(() -> {
        connection.replyFailure(request.id(), failure);
        request.release();
        return Future.succeededFuture();
      });
    }

    void sendEvent(ActorInfo info) throws Exception {
      onContext(() -> {
        connection.send(Message.of(Body.ActorEvent, b -> ActorEvent.createActorEvent(b, Messages.writeActorInfo(b, info))), null);
        return Future.succeededFuture();
      });
    }

    void close() throws Exception {
      onContext(connection::close);
    }
  }

  private TestAgent agent(String nodeId, int gpus) throws Exception {
    Connection connection = onContext(() -> Connection.connect(netClient, SocketAddress.inetSocketAddress(hub.actualPort(), "127.0.0.1"),
      ClientHello.of(Role.Agent, nodeId, ClusterAuth.NONE).withMaxFrameSize(1 << 20).withTimeout(5_000)));
    TestAgent agent = new TestAgent(connection);
    agent.register(nodeId, gpus);
    return agent;
  }

  private static ActorInfo running(Spawn spawn, List<Integer> gpus) {
    return new ActorInfo(spawn.actorId(), spawn.actorType(), spawn.nodeId(), "127.0.0.1", 4321, 999, "/logs/x.log",
      ActorState.RUNNING, -1, null, gpus);
  }

  private NodeInfo node(String id) throws Exception {
    ClusterStatus status = client.status().await(10, TimeUnit.SECONDS);
    return status.nodes().stream().filter(n -> n.id().equals(id)).findFirst().orElseThrow();
  }

  @Test
  void registersNodesWithTheirGpus() throws Exception {
    agent("n1", 4);
    NodeInfo node = node("n1");
    assertThat(node.alive()).isTrue();
    assertThat(node.gpus()).hasSize(4);
    assertThat(node.freeGpus()).containsExactly(0, 1, 2, 3);
    assertThat(node.cpus()).isEqualTo(8);
  }

  @Test
  void aStandaloneClientsCloseCompletesOnceItsVertxIsClosed() throws Exception {
    // A client with a Vert.x instance of its own: close() used to be reported on one of that instance's event loops,
    // gone by then, so the future never completed and callers waiting on it hung.
    SpokeClient standalone = SpokeClient.create(new SpokeClientOptions().setHubPort(hub.actualPort()));
    standalone.status().await(10, TimeUnit.SECONDS);
    standalone.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void aReRegistrationUpdatesTheNode() throws Exception {
    TestAgent first = agent("n1", 2);
    first.close();
    agent("n1", 6);
    assertThat(node("n1").gpus()).hasSize(6);
    assertThat(node("n1").alive()).isTrue();
  }

  @Test
  void refusesRequestsWithIdsThatWouldEscapeTheLogDirectory() throws Exception {
    agent("n1", 0);
    Connection raw = onContext(() -> Connection.connect(netClient, SocketAddress.inetSocketAddress(hub.actualPort(), "127.0.0.1"),
      ClientHello.of(Role.Client, "raw", ClusterAuth.NONE).withMaxFrameSize(1 << 20).withTimeout(5_000)));
    assertThatThrownBy(() -> onContext(() -> {
      Message spawn = Message.of(Body.Spawn, b -> Spawn.createSpawn(b, b.createString("Echo"), b.createString("../../etc/cron.d/evil"),
        0, 0, 0, 0, 0, 0, 1000, 0, 0, 0, 0, 0, false, 0));
      return raw.request(spawn, null, 5_000, "spawn", f -> null);
    })).isInstanceOf(InvalidRequestException.class).hasMessageContaining("must not start with '.'");
  }

  @Test
  void marksANodeDeadWhenItsHeartbeatsStop() throws Exception {
    TestAgent agent = agent("quiet", 1);
    for (int i = 0; i < 10; i++) {
      agent.heartbeat();
      Thread.sleep(40);
    }
    assertThat(node("quiet").alive()).as("alive while it beats").isTrue();
    long deadline = System.nanoTime() + 3_000_000_000L;
    while (node("quiet").alive()) {
      assertThat(System.nanoTime()).as("node declared dead within 3 s").isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  @Test
  void refusesASecondLiveAgentWithTheSameNodeId() throws Exception {
    agent("twin", 1);
    assertThatThrownBy(() -> agent("twin", 1)).isInstanceOf(InvalidRequestException.class)
      .hasMessageContaining("node id 'twin' is already registered");
  }

  @Test
  void spawnWithoutNodesSaysHowToAddOne() {
    assertThatThrownBy(() -> client.spawn("Echo", "e1").await(10, TimeUnit.SECONDS)).isInstanceOf(SchedulingException.class)
      .hasMessageContaining("no agent has registered with the hub");
  }

  @Test
  void spawnOnAnUnknownNodeNamesTheKnownOnes() throws Exception {
    agent("n1", 0);
    assertThatThrownBy(() -> client.spawn("Echo", "e1", new SpawnOptions().setNode("n9")).await(10, TimeUnit.SECONDS))
      .isInstanceOf(NodeUnavailableException.class).hasMessage("unknown node 'n9'; the nodes are: n1");
  }

  @Test
  void spawnBeyondTheClustersGpusSaysWhatIsFree() throws Exception {
    agent("n1", 2);
    assertThatThrownBy(() -> client.spawn("Echo", "e1", new SpawnOptions().setGpus(3)).await(10, TimeUnit.SECONDS))
      .isInstanceOf(SchedulingException.class).hasMessageContaining("needs 1 node with 3 GPUs free; best node n1 has 2 of 2 GPUs");
  }

  @Test
  void resolveOfAnUnknownActorFails() {
    assertThatThrownBy(() -> client.resolve("ghost").await(10, TimeUnit.SECONDS)).isInstanceOf(ActorNotFoundException.class)
      .hasMessage("no actor 'ghost' is known to the hub");
    assertThatThrownBy(() -> client.call("ghost", 1, Buffer.buffer()).await(10, TimeUnit.SECONDS))
      .isInstanceOf(ActorNotFoundException.class);
  }

  @Test
  void forwardsSpawnsWithReservedGpusAndRecordsExits() throws Exception {
    TestAgent agent = agent("n1", 4);
    Future<ActorHandle> spawned = client.spawn("Echo", "e1", new SpawnOptions().setGpus(2).setArgs(Buffer.buffer("args")));
    Frame request = agent.nextRequest();
    assertThat(request.bodyType()).isEqualTo(Body.Spawn);
    Spawn spawn = (Spawn) request.header().body(new Spawn());
    assertThat(spawn.actorId()).isEqualTo("e1");
    assertThat(spawn.gpuIdsLength()).isEqualTo(2);
    assertThat(request.payload().toString()).isEqualTo("args");
    List<Integer> gpus = List.of(spawn.gpuIds(0), spawn.gpuIds(1));
    agent.replyActorInfo(request, running(spawn, gpus));
    ActorHandle handle = spawned.await(10, TimeUnit.SECONDS);
    assertThat(handle.info().gpuIds()).containsExactlyElementsOf(gpus);
    assertThat(node("n1").freeGpus()).hasSize(2);

    assertThatThrownBy(() -> client.spawn("Echo", "e1").await(10, TimeUnit.SECONDS)).isInstanceOf(DuplicateActorException.class)
      .hasMessageContaining("actor id 'e1' is taken by a running actor of type Echo on node n1");

    agent.sendEvent(handle.info().withState(ActorState.EXITED, 137, "killed by SIGKILL (exit status 137)"));
    long deadline = System.nanoTime() + 5_000_000_000L;
    ActorInfo info;
    while ((info = client.resolve("e1").await(10, TimeUnit.SECONDS)).state() != ActorState.EXITED) {
      assertThat(System.nanoTime()).isLessThan(deadline);
      Thread.sleep(20);
    }
    assertThat(info.exitCode()).isEqualTo(137);
    assertThat(info.reason()).contains("SIGKILL");
    assertThat(node("n1").freeGpus()).hasSize(4);
  }

  @Test
  void agentFailuresReachTheClientWithTheirType() throws Exception {
    TestAgent agent = agent("n1", 0);
    Future<ActorHandle> spawned = client.spawn("Echo", "e1");
    agent.replyFailure(agent.nextRequest(), new SpawnException("actor 'e1' exited with status 1 before it was ready"));
    assertThatThrownBy(() -> spawned.await(10, TimeUnit.SECONDS)).isInstanceOf(SpawnException.class)
      .hasMessage("actor 'e1' exited with status 1 before it was ready");
    assertThatThrownBy(() -> client.resolve("e1").await(10, TimeUnit.SECONDS)).isInstanceOf(ActorNotFoundException.class);
  }

  @Test
  void aDeadNodesActorsAreReportedDead() throws Exception {
    TestAgent agent = agent("doomed", 0);
    Future<ActorHandle> spawned = client.spawn("Echo", "e1");
    Frame request = agent.nextRequest();
    agent.replyActorInfo(request, running((Spawn) request.header().body(new Spawn()), List.of()));
    spawned.await(10, TimeUnit.SECONDS);
    agent.close();
    long deadline = System.nanoTime() + 5_000_000_000L;
    ActorInfo info;
    while ((info = client.resolve("e1").await(10, TimeUnit.SECONDS)).state() != ActorState.EXITED) {
      assertThat(System.nanoTime()).isLessThan(deadline);
      Thread.sleep(20);
    }
    assertThat(info.reason()).contains("its node doomed died");
  }

  @Test
  void garbageClosesOnlyThatConnection() throws Exception {
    agent("n1", 1);
    NetSocket raw = vertx.createNetClient().connect(hub.actualPort(), "127.0.0.1").await(5, TimeUnit.SECONDS);
    Promise<Void> closed = Promise.promise();
    raw.closeHandler(v -> closed.tryComplete());
    raw.write(BufferInternal.buffer(Unpooled.wrappedBuffer(new byte[] {0, 0, 0, 12, 0, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8})));
    closed.future().await(5, TimeUnit.SECONDS);
    assertThat(node("n1").alive()).isTrue();
  }
}
