// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spoke.vertx.SchedulingException;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Spawns that wait for room ({@code SpawnOptions.setWaitForResources}): one asked for before any agent registered
 * starts once one does; one that finds the only GPU taken starts on it once its holder stops; one that never fits
 * fails at its timeout, saying what it waited for. Without the option, a spawn that does not fit fails at once.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class SpawnWaitIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);

  @Test
  void aSpawnBeforeAnyAgentRegisteredStartsOnceOneDoes(Vertx vertx) throws Exception {
    cluster.start(vertx);
    SpokeClient client = cluster.client();
    assertThatThrownBy(() -> await(client.spawn("Echo", "too-early"))).isInstanceOf(SchedulingException.class)
      .hasMessageContaining("no agent");
    Future<ActorHandle> early = client.spawn("Echo", "early", new SpawnOptions().setWaitForResources(true).setTimeout(60_000));
    Thread.sleep(500);
    assertThat(early.isComplete()).as("it waits").isFalse();
    cluster.startAgent(new AgentOptions().setNodeId("late").setGpus(0));
    ActorHandle actor = await(early);
    processes.track(actor.info().pid());
    assertThat(actor.info().nodeId()).isEqualTo("late");
    assertThat(await(actor.call(TestActors.HELLO, "late", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, late!");
  }

  @Test
  void aSpawnWaitsForTheGpuItsHolderFreesAndOneThatNeverFitsFailsAtItsTimeout(Vertx vertx) throws Exception {
    cluster.start(vertx);
    cluster.startAgent(new AgentOptions().setNodeId("one-gpu").setGpus(1));
    SpokeClient client = cluster.client();
    ActorHandle holder = cluster.spawn(client, "Echo", "holder", new SpawnOptions().setGpus(1));
    processes.track(holder.info().pid());
    assertThatThrownBy(() -> await(client.spawn("Echo", "impatient", new SpawnOptions().setGpus(1))))
      .isInstanceOf(SchedulingException.class);
    Future<ActorHandle> next = client.spawn("Echo", "next", new SpawnOptions().setGpus(1).setWaitForResources(true).setTimeout(60_000));
    Future<ActorHandle> never = client.spawn("Echo", "never", new SpawnOptions().setGpus(4).setWaitForResources(true).setTimeout(1_500));
    Thread.sleep(500);
    assertThat(next.isComplete()).as("it waits for the GPU").isFalse();
    assertThatThrownBy(() -> await(never)).isInstanceOf(SchedulingException.class).hasMessageContaining("waited 1500 ms");

    await(holder.stop());
    ActorHandle actor = await(next);
    processes.track(actor.info().pid());
    assertThat(actor.info().gpuIds()).isEqualTo(holder.info().gpuIds());
    assertThat(await(actor.call(TestActors.HELLO, "gpu", Serializers.STRING, Serializers.STRING))).isEqualTo("Hello, gpu!");
  }
}
