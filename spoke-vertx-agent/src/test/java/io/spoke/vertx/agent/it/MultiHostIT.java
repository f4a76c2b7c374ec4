// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.spoke.vertx.client.ActorHandle;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.ManagedProcess;
import io.spoke.vertx.client.PlacementStrategy;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.hub.HubOptions;
import io.spoke.vertx.serialization.Serializers;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.io.File;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two "hosts" with addresses of their own (network namespaces made by scripts/netns-cluster.sh; root only,
 * as CI runs), each running an agent in its own process, and the hub and client on this host. Catches what
 * loopback hides: an agent advertising 127.0.0.1, a MASTER_ADDR other hosts cannot reach.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class MultiHostIT {

  private static final String PREFIX = "spokeit";
  private static final String HOST0 = "10.213.0.1";
  private static final Path SCRIPT = Paths.get("..", "scripts", "netns-cluster.sh").toAbsolutePath().normalize();

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);
  private SpokeClient client;

  @BeforeAll
  static void hosts() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")), "network namespaces need root (CI runs as root)");
    assumeTrue(new File("/usr/sbin/ip").canExecute() || new File("/sbin/ip").canExecute() || new File("/usr/bin/ip").canExecute(),
      "network namespaces need iproute2");
    run(SCRIPT.toString(), "down", PREFIX);
    run(SCRIPT.toString(), "up", "2", PREFIX);
  }

  @AfterAll
  static void removeHosts() throws Exception {
    if ("root".equals(System.getProperty("user.name"))) {
      run(SCRIPT.toString(), "down", PREFIX);
    }
  }

  private static void run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("%s: %s", String.join(" ", command), output).isZero();
  }

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    cluster.start(vertx, new HubOptions().setHost(HOST0));
    for (int i = 1; i <= 2; i++) {
      cluster.startAgentProcess("host" + i, java.util.Map.of(), List.of("ip", "netns", "exec", PREFIX + "-" + i), "--gpus", "2");
    }
    // The "hosts" share this one's file system, where the actors' Unix sockets are: calls go over the network, as
    // between real hosts, only if the client does not use them.
    client = cluster.client(new io.spoke.vertx.client.SpokeClientOptions().setHubHost(HOST0).setLocalSockets(false));
  }

  @Test
  void ranksOnDifferentHostsFindEachOtherThroughMasterAddr() throws Exception {
    Allocation allocation = await(client.gangAllocate(new GangRequest().setNodes(2).setActorsPerNode(1).setGpus(1)
      .setStrategy(PlacementStrategy.STRICT_PACK).setPreferredNode("host2")));
    assertThat(allocation.slot(0).host()).isEqualTo("10.213.0.12");
    assertThat(allocation.slot(1).host()).isEqualTo("10.213.0.11");
    assertThat(allocation.masterAddr()).isEqualTo("10.213.0.12");

    List<ActorHandle> ranks = new ArrayList<>();
    for (int rank = 0; rank < 2; rank++) {
      ActorHandle actor = await(client.launch(allocation.ticketId(), rank, "Echo", "host-rank-" + rank));
      processes.track(actor.info().pid());
      ranks.add(actor);
    }
    // Actors advertise their host's address, and this host reaches them there.
    assertThat(ranks.get(0).info().host()).isEqualTo("10.213.0.12");
    assertThat(ranks.get(1).info().host()).isEqualTo("10.213.0.11");
    assertThat(await(ranks.get(1).call(TestActors.ENV, "MASTER_ADDR", Serializers.STRING, Serializers.STRING))).isEqualTo("10.213.0.12");

    // The rendezvous itself: rank 0 listens on MASTER_PORT on its host, rank 1 dials it from the other host.
    Future<String> served = ranks.get(0).call(TestActors.SERVE_MASTER, null, Serializers.VOID, Serializers.STRING);
    String greeting = await(ranks.get(1).call(TestActors.DIAL_MASTER, null, Serializers.VOID, Serializers.STRING));
    assertThat(greeting).isEqualTo("hello from rank 0");
    assertThat(await(served)).isEqualTo("served 10.213.0.11");

    await(client.release(allocation.ticketId()));
  }

  @Test
  void aTorchDistributedJobOfProcessesOnTwoHostsAllReduces() throws Exception {
    Allocation allocation = await(client.gangAllocate(new GangRequest().setNodes(2).setActorsPerNode(2).setGpus(1)));
    String script = String.join("\n",
      "import os, torch, torch.distributed as dist",
      "dist.init_process_group('gloo', init_method='env://')",
      "t = torch.tensor([float(dist.get_rank() + 1)])",
      "dist.all_reduce(t)",
      "print('rank', dist.get_rank(), 'on', os.environ['SPOKE_NODE_IP'], 'master', os.environ['MASTER_ADDR'], 'sum', t.item(), flush=True)",
      "dist.destroy_process_group()");
    List<ManagedProcess> ranks = new ArrayList<>();
    for (int rank = 0; rank < 4; rank++) {
      // Left to itself gloo would listen on the address of the host name, 127.0.0.1 here: the agent names eth0.
      ranks.add(await(client.launchProcess(allocation.ticketId(), rank, "torch-rank-" + rank,
        new ProcessSpec(List.of("/usr/bin/python3", "-c", script)))));
      processes.track(ranks.get(rank).info().pid());
    }
    for (int rank = 0; rank < 4; rank++) {
      ActorInfo end = await(ranks.get(rank).exit());
      String log = await(client.readLog(ranks.get(rank).id(), 0, 1 << 20)).data().toString(java.nio.charset.StandardCharsets.UTF_8);
      assertThat(end.exitCode()).as(log).isZero();
      assertThat(log).contains("rank " + rank + " on " + allocation.slot(rank).host() + " master " + allocation.masterAddr()
        + " sum 10.0");
    }
    assertThat(allocation.slot(0).host()).isNotEqualTo(allocation.slot(3).host());
    await(client.release(allocation.ticketId()));
  }
}
