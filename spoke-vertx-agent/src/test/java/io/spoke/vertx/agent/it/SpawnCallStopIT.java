// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The main path across hub, agent and actor processes: spawn, call, push, stop. */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class SpawnCallStopIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);
  private SpokeClient client;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    cluster.start(vertx);
    cluster.startAgent(new AgentOptions().setGpus(2));
    client = cluster.client();
  }

  @Test
  void spawnsCallsAndStopsAnActorProcess() throws Exception {
    ActorHandle actor = cluster.spawn(client, "Echo", "echo-1", new SpawnOptions().setArgs(Buffer.buffer("constructor args")));
    ActorInfo info = actor.info();
    assertThat(info.state()).isEqualTo(ActorState.RUNNING);
    assertThat(ProcessCleanup.alive(info.pid())).isTrue();
    assertThat(info.pid()).isNotEqualTo(ProcessHandle.current().pid());

    // Every argument and result type the runtime serializes, through a real process.
    assertThat(await(actor.call(TestActors.HELLO, "Spoke", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, Spoke!");
    assertThat(await(actor.call(TestActors.ARGS, Buffer.buffer()))).isEqualTo(Buffer.buffer("constructor args"));
    assertThat(await(actor.call(TestActors.PID, null, Serializers.VOID, Serializers.LONG))).isEqualTo(info.pid());
    assertThat(await(actor.call(TestActors.ADD, 10L, Serializers.LONG, Serializers.LONG))).isEqualTo(11L);
    assertThat(await(actor.call(TestActors.ADD, 10L, Serializers.LONG, Serializers.LONG))).isEqualTo(12L);
    assertThat(await(actor.call(TestActors.BLOCKING, null, Serializers.VOID, Serializers.STRING))).startsWith("vert.x-worker-thread");
    Buffer large = TestActors.pattern(1 << 20);
    assertThat(await(actor.call(TestActors.ECHO, large))).isEqualTo(large);
    Buffer empty = await(actor.call(TestActors.ECHO, Buffer.buffer()));
    assertThat(empty.length()).isZero();

    // Its log has its identity first, then its output.
    Path log = Paths.get(info.logFile());
    assertThat(log).startsWith(cluster.logDir().resolve("adhoc"));
    assertThat(log.getFileName().toString()).matches("echo-1_\\d{8}_\\d{6}\\.log");
    assertThat(Files.readAllLines(log).get(0)).contains("actor 'echo-1' of type Echo");

    await(actor.stop());
    assertThat(ProcessCleanup.alive(info.pid())).as("process gone when stop completes").isFalse();
    ActorInfo exited = await(client.resolve("echo-1"));
    assertThat(exited.state()).isEqualTo(ActorState.EXITED);
    assertThat(exited.reason()).isEqualTo("stopped");
    await(actor.stop());
  }

  @Test
  void stoppingAnActorAlsoStopsTheProcessesItStarted() throws Exception {
    ActorHandle actor = cluster.spawn(client, "Echo", "parent");
    long child = processes.track(await(actor.call(TestActors.CHILD, null, Serializers.VOID, Serializers.LONG)));
    assertThat(ProcessCleanup.alive(child)).isTrue();
    await(actor.stop());
    ProcessCleanup.awaitExit(child, 5_000);
  }

  @Test
  void anIdIsFreeAgainOnceItsActorIsStopped() throws Exception {
    ActorHandle first = cluster.spawn(client, "Echo", "reused");
    await(first.stop());
    ActorHandle second = cluster.spawn(client, "Echo", "reused");
    assertThat(second.info().pid()).isNotEqualTo(first.info().pid());
    assertThat(await(client.call("reused", TestActors.PID, null, Serializers.VOID, Serializers.LONG))).isEqualTo(second.info().pid());
  }

  @Test
  void pushesReachSubscribedClientsInOrderBeforeTheReply() throws Exception {
    ActorHandle actor = cluster.spawn(client, "Echo", "streamer");
    SpokeClient other = cluster.client();
    List<String> received = new java.util.concurrent.CopyOnWriteArrayList<>();
    List<String> receivedByOther = new java.util.concurrent.CopyOnWriteArrayList<>();
    await(actor.subscribe(7, token -> received.add(token.toString())));
    await(other.subscribe("streamer", 7, token -> receivedByOther.add(token.toString())));
    int count = await(actor.call(TestActors.PUSH, 50, Serializers.INT, Serializers.INT));
    assertThat(count).isEqualTo(50);
    assertThat(received).hasSize(50).startsWith("token-0", "token-1").endsWith("token-49");
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (receivedByOther.size() < 50 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(receivedByOther).isEqualTo(received);

    await(actor.unsubscribe(7));
    await(actor.call(TestActors.PUSH, 5, Serializers.INT, Serializers.INT));
    assertThat(received).hasSize(50);
  }

  @Test
  void gpusAreIsolatedPerActor() throws Exception {
    ActorHandle two = cluster.spawn(client, "Echo", "two-gpus", new SpawnOptions().setGpus(1));
    ActorHandle none = cluster.spawn(client, "Echo", "no-gpus");
    assertThat(await(two.call(TestActors.ENV, "CUDA_VISIBLE_DEVICES", Serializers.STRING, Serializers.STRING)))
      .isEqualTo(two.info().gpuIds().get(0).toString());
    assertThat(await(two.call(TestActors.ENV, "CUDA_DEVICE_ORDER", Serializers.STRING, Serializers.STRING))).isEqualTo("PCI_BUS_ID");
    assertThat(await(two.call(TestActors.ENV, "ROCR_VISIBLE_DEVICES", Serializers.STRING, Serializers.STRING)))
      .isEqualTo(two.info().gpuIds().get(0).toString());
    // An ad-hoc actor without GPUs inherits the agent's environment, which here has no CUDA_VISIBLE_DEVICES.
    assertThat(await(none.call(TestActors.ENV, "CUDA_VISIBLE_DEVICES", Serializers.STRING, Serializers.STRING))).isEqualTo("<unset>");
    assertThat(await(none.call(TestActors.ENV, "SPOKE_ACTOR_TYPE", Serializers.STRING, Serializers.STRING))).isEqualTo("Echo");
  }
}
