// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spoke.vertx.SlotTakenException;
import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorLog;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.NodeInfo;
import io.spoke.vertx.client.PlacementStrategy;
import io.spoke.vertx.client.SpawnOptions;
import io.spoke.vertx.client.Slot;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Gangs of real actor processes on several agents of this machine, each agent with its own port and --gpus 8. */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class GangIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);
  private SpokeClient client;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    cluster.start(vertx);
    client = cluster.client();
  }

  private String env(ActorHandle actor, String name) throws Exception {
    return await(actor.call(TestActors.ENV, name, Serializers.STRING, Serializers.STRING));
  }

  private List<ActorHandle> launchAll(Allocation allocation, String prefix) throws Exception {
    List<Future<ActorHandle>> launches = new ArrayList<>();
    for (Slot slot : allocation.slots()) {
      launches.add(client.launch(allocation.ticketId(), slot.globalRank(), "Echo", prefix + slot.globalRank())
        .onSuccess(actor -> processes.track(actor.info().pid())));
    }
    await(Future.all(launches));
    List<ActorHandle> actors = new ArrayList<>();
    launches.forEach(f -> actors.add(f.result()));
    return actors;
  }

  @Test
  void everyRankSeesExactlyItsGpusAndRendezvousVariables() throws Exception {
    cluster.startAgent(new AgentOptions().setNodeId("alpha").setGpus(8));
    cluster.startAgent(new AgentOptions().setNodeId("beta").setGpus(8));
    Allocation allocation = await(client.gangAllocate(new GangRequest().setNodes(2).setActorsPerNode(4).setGpus(1)
      .setStrategy(PlacementStrategy.STRICT_PACK).setPreferredNode("beta")));
    List<ActorHandle> ranks = launchAll(allocation, "rank-");

    assertThat(allocation.masterAddr()).isEqualTo("127.0.0.1");
    assertThat(allocation.masterPort()).isBetween(29500, 29999);
    for (ActorHandle actor : ranks) {
      Slot slot = allocation.slot(actor.info().rank());
      assertThat(actor.info().ticket()).isEqualTo(allocation.ticketId());
      assertThat(actor.info().nodeId()).isEqualTo(slot.nodeId());
      assertThat(actor.info().gpuIds()).isEqualTo(slot.gpuIds());
      assertThat(env(actor, "CUDA_VISIBLE_DEVICES")).isEqualTo(String.valueOf(slot.gpuIds().get(0)));
      assertThat(env(actor, "ROCR_VISIBLE_DEVICES")).isEqualTo(String.valueOf(slot.gpuIds().get(0)));
      assertThat(env(actor, "CUDA_DEVICE_ORDER")).isEqualTo("PCI_BUS_ID");
      assertThat(env(actor, "RANK")).isEqualTo(String.valueOf(slot.globalRank()));
      assertThat(env(actor, "WORLD_SIZE")).isEqualTo("8");
      assertThat(env(actor, "LOCAL_RANK")).isEqualTo(String.valueOf(slot.globalRank() % 4));
      assertThat(env(actor, "LOCAL_WORLD_SIZE")).isEqualTo("4");
      assertThat(env(actor, "MASTER_ADDR")).isEqualTo("127.0.0.1");
      assertThat(env(actor, "MASTER_PORT")).isEqualTo(String.valueOf(allocation.masterPort()));
      assertThat(env(actor, "SPOKE_TICKET")).isEqualTo(allocation.ticketId());
      assertThat(await(actor.call(TestActors.SLOT, null, Serializers.VOID, Serializers.STRING)))
        .isEqualTo(allocation.ticketId() + " " + slot.globalRank() + "/8 " + slot.localRank() + "/4 " + slot.gpuIds() + " 127.0.0.1:"
          + allocation.masterPort());
      // Per-ticket log directory, with the rank in the first lines.
      assertThat(Paths.get(actor.info().logFile()).getParent()).isEqualTo(cluster.logDir().resolve(allocation.ticketId()));
      assertThat(Files.readString(Paths.get(actor.info().logFile()))).contains("rank " + slot.globalRank() + " of 8");
    }
    assertThat(ranks.subList(0, 4)).allSatisfy(a -> assertThat(a.info().nodeId()).isEqualTo("beta"));
    assertThat(ranks.stream().map(a -> a.info().nodeId() + "/" + a.info().gpuIds())).doesNotHaveDuplicates();

    // The log of any rank, read through the hub (./spoke logs).
    ActorLog log = await(client.readLog("rank-5", 0, 1 << 16));
    assertThat(log.data().toString()).contains("# ticket " + allocation.ticketId() + ", rank 5 of 8");
    assertThat(log.running()).isTrue();

    await(client.release(allocation.ticketId()));
    for (ActorHandle actor : ranks) {
      assertThat(ProcessCleanup.alive(actor.info().pid())).as("%s stopped by the release", actor.id()).isFalse();
    }
    assertThat(await(client.status()).nodes()).allSatisfy(n -> assertThat(n.freeGpus()).hasSize(8));
    assertThat(await(client.tickets())).isEmpty();
  }

  @Test
  void ranksWithoutGpusSeeNoneAndADeadRankKeepsItsGpusReserved() throws Exception {
    cluster.startAgent(new AgentOptions().setNodeId("solo").setGpus(4));
    Allocation cpuOnly = await(client.gangAllocate(new GangRequest().setActorsPerNode(1).setGpus(0)));
    ActorHandle managed = launchAll(cpuOnly, "cpu-").get(0);
    // Spoke's managed mode: set, and empty.
    assertThat(env(managed, "CUDA_VISIBLE_DEVICES")).isEmpty();

    Allocation gpus = await(client.gangAllocate(new GangRequest().setActorsPerNode(2).setGpus(1)));
    List<ActorHandle> ranks = launchAll(gpus, "gpu-");
    assertThatThrownBy(() -> await(client.launch(gpus.ticketId(), 0, "Echo", "intruder")))
      .isInstanceOf(SlotTakenException.class).hasMessageContaining("rank 0 of ticket " + gpus.ticketId() + " already runs actor 'gpu-0'");

    List<ActorInfo> exits = new CopyOnWriteArrayList<>();
    client.actorExitHandler(exits::add);
    ProcessHandle.of(ranks.get(0).info().pid()).orElseThrow().destroyForcibly();
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (exits.isEmpty()) {
      assertThat(System.nanoTime()).isLessThan(deadline);
      Thread.sleep(20);
    }
    assertThat(exits.get(0).id()).isEqualTo("gpu-0");
    assertThat(exits.get(0).ticket()).isEqualTo(gpus.ticketId());
    assertThat(exits.get(0).exitCode()).isEqualTo(137);
    Allocation after = await(client.tickets()).stream().filter(a -> a.ticketId().equals(gpus.ticketId())).findFirst().orElseThrow();
    assertThat(after.slot(0).actorState()).isEqualTo(ActorState.EXITED);
    assertThat(after.slot(1).actorState()).isEqualTo(ActorState.RUNNING);
    // The gang owns its GPUs until release: still 2 of 4 in use.
    NodeInfo node = await(client.status()).nodes().get(0);
    assertThat(node.freeGpus()).hasSize(2);

    // The rank can be launched again, in the same slot, with the same GPU.
    ActorHandle again = await(client.launch(gpus.ticketId(), 0, "Echo", "gpu-0b"));
    processes.track(again.info().pid());
    assertThat(again.info().gpuIds()).isEqualTo(gpus.slot(0).gpuIds());
    await(client.release(gpus.ticketId()));
    await(client.release(cpuOnly.ticketId()));
    assertThat(await(client.status()).nodes().get(0).freeGpus()).hasSize(4);
  }

  @Test
  void anAgentGivenASubsetOfGpusGivesEachActorItsOwnPartOfIt() throws Exception {
    cluster.startAgentProcess("slurm", Map.of("CUDA_VISIBLE_DEVICES", "1,3"), "--gpus", "4");
    NodeInfo node = cluster.awaitNode("slurm");
    assertThat(node.gpus()).extracting(g -> g.index()).containsExactly(1, 3);
    Allocation allocation = await(client.gangAllocate(new GangRequest().setActorsPerNode(2).setGpus(1)));
    List<ActorHandle> ranks = launchAll(allocation, "slurm-");
    assertThat(List.of(env(ranks.get(0), "CUDA_VISIBLE_DEVICES"), env(ranks.get(1), "CUDA_VISIBLE_DEVICES")))
      .containsExactly("1", "3");
    await(client.release(allocation.ticketId()));
    // An ad-hoc actor without GPUs is narrowed too: to nothing, never to the agent's whole "1,3".
    ActorHandle adhoc = cluster.spawn(client, "Echo", "adhoc", new SpawnOptions().setNode("slurm"));
    assertThat(env(adhoc, "CUDA_VISIBLE_DEVICES")).isEmpty();
  }

  @Test
  void closingTheClientStopsTheActorsOfItsTickets() throws Exception {
    cluster.startAgent(new AgentOptions().setGpus(2));
    SpokeClient owner = cluster.client();
    Allocation allocation = await(owner.gangAllocate(new GangRequest().setActorsPerNode(1).setGpus(1)));
    ActorHandle actor = await(owner.launch(allocation.ticketId(), 0, "Echo", "owned"));
    processes.track(actor.info().pid());
    await(owner.close());
    assertThat(ProcessCleanup.alive(actor.info().pid())).isFalse();
    assertThat(await(client.status()).tickets()).isEmpty();
  }
}
