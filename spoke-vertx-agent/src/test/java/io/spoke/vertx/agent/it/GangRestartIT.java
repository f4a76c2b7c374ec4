// SPDX-License-Identifier: Apache-2.0
package io.spoke.vertx.agent.it;

import static io.spoke.vertx.test.Await.await;
import static io.spoke.vertx.test.Await.until;
import static org.assertj.core.api.Assertions.assertThat;

import io.spoke.vertx.agent.AgentOptions;
import io.spoke.vertx.client.ActorInfo;
import io.spoke.vertx.client.ActorState;
import io.spoke.vertx.client.Allocation;
import io.spoke.vertx.client.GangRequest;
import io.spoke.vertx.client.ManagedProcess;
import io.spoke.vertx.client.ProcessSpec;
import io.spoke.vertx.client.RestartPolicy;
import io.spoke.vertx.client.SpokeClient;
import io.spoke.vertx.client.TicketState;
import io.spoke.vertx.test.BlockedThreadDetector;
import io.spoke.vertx.test.ProcessCleanup;
import io.spoke.vertx.testkit.TestCluster;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Gang restarts through the Java API: a rank that keeps failing restarts the whole gang on the same slots and ports
 * until the budget is spent; then the ticket fails and its owner hears why.
 */
@ExtendWith({VertxExtension.class, BlockedThreadDetector.class})
class GangRestartIT {

  @RegisterExtension
  static ProcessCleanup processes = new ProcessCleanup();

  @RegisterExtension
  final TestCluster cluster = new TestCluster(processes);

  @Test
  void aRankThatKeepsFailingSpendsTheGangsBudgetAndThenTheTicketFailsAndItsOwnerHearsWhy(Vertx vertx) throws Exception {
    cluster.start(vertx);
    cluster.startAgent(new AgentOptions().setNodeId("g1").setGpus(2));
    SpokeClient client = cluster.client();
    List<Allocation> ticketEvents = new CopyOnWriteArrayList<>();
    client.ticketHandler(ticketEvents::add);
    Allocation ticket = await(client.gangAllocate(new GangRequest().setActorsPerNode(2).setGpus(1)
      .setRestart(RestartPolicy.onFailure(1).withBackoffMs(100))));
    List<ManagedProcess> ranks = new ArrayList<>();
    for (int rank = 0; rank < 2; rank++) {
      ranks.add(await(client.launchProcess(ticket.ticketId(), rank, "g-rank-" + rank, new ProcessSpec(List.of("sh", "-c",
        "echo attempt $SPOKE_ATTEMPT port $SPOKE_PORT_0 gpu $CUDA_VISIBLE_DEVICES; [ $RANK = 1 ] && { sleep 0.3; exit 5; }; "
          + "exec sleep 600")).setPorts(1))));
    }
    int port0 = ranks.get(0).ports().get(0);
    int port1 = ranks.get(1).ports().get(0);

    until("the owner to hear that the ticket failed", () -> ticketEvents.size() >= 2);
    // It heard of the gang restart first, with its count, then of the failure.
    Allocation restarted = ticketEvents.get(0);
    assertThat(restarted.state()).isEqualTo(TicketState.ALLOCATED);
    assertThat(restarted.restarts()).isEqualTo(1);
    assertThat(restarted.restart().maxRestarts()).isEqualTo(1);
    assertThat(restarted.reason()).contains("rank 1").contains("exited with status 5").contains("gang restart 1 of at most 1");
    Allocation failed = ticketEvents.get(1);
    assertThat(failed.ticketId()).isEqualTo(ticket.ticketId());
    assertThat(failed.state()).isEqualTo(TicketState.FAILED);
    assertThat(failed.reason()).contains("rank 1").contains("exited with status 5").contains("no gang restart left (1 within");
    // Both ranks ran twice, on the same slots and ports, the second time at attempt 1.
    for (int rank = 0; rank < 2; rank++) {
      String log = await(client.readLog("g-rank-" + rank, 0, 1 << 20)).data().toString(StandardCharsets.UTF_8);
      int port = rank == 0 ? port0 : port1;
      assertThat(log).contains("attempt 0 port " + port).contains("attempt 1 port " + port);
    }
    ActorInfo last = await(ranks.get(1).exit());
    assertThat(last.exitCode()).isEqualTo(5);
    ActorInfo survivor = await(client.resolve("g-rank-0"));
    assertThat(survivor.state()).isEqualTo(ActorState.RUNNING);
    processes.track(survivor.pid());
    await(client.release(ticket.ticketId()));
    assertThat(await(ranks.get(0).exit()).state()).isEqualTo(ActorState.EXITED);
  }
}
